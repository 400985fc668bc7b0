"""Hand-made word tables of the name detectors (Latin script): common words that are never name
evidence, organisation / place words, Myanmar admin names, honorifics and titles, headers of
columns that do not name people.  ``fold`` (lowercase, no accents) normalises their entries."""

from __future__ import annotations

import functools
import unicodedata

from ..patterns import HONORIFIC_LOWER, NAME_STOP


def _ws(text: str) -> list[str]:
    """The whitespace-separated words of a word-list block."""
    return text.split()


@functools.lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """Lowercase and strip accents: 'Fábio' -> 'fabio', 'Jürgen' -> 'jurgen'."""
    if word.isascii():
        return word.lower()
    w = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in w if not unicodedata.combining(ch)).replace("’", "'")


#: common English / humanitarian / place words that appear in name lists ("May", "Will", "Rose").
#: Hand-made (own judgement): they never count as name evidence on their own.
COMMON_WORDS = frozenset(
    _ws("""
a an the and or but nor of in on at to for by with from as is was be are were been it its this that these
those he she we they you i me my our your his her their who what when where why how all any some no not yes
so up down out over under more most many much new old good great best better first last next other same such
only also just very well still even back here there then now today general major royal grand little big small
high low long short young white black brown green gray grey red blue gold golden silver rose violet ivory amber
jade pearl ruby coral hazel olive scarlet crystal star sky rain storm sunny sunshine sun moon angel bliss
blossom honey sugar candy cherry berry apple ginger pepper sage basil ash oak holly ivy iris lily daisy poppy
heather fern willow laurel jasmine may june april august january february march july september october november
december monday tuesday wednesday thursday friday saturday sunday summer winter autumn spring fall dawn day
night morning evening will hope faith grace joy love charity mercy patience prudence honor honour justice
liberty trinity unity destiny harmony serenity page park hall hill wood woods field fields house church street
lane bridge ford brook banks bank lake river rivers stone rock king kings queen prince princess duke earl baron
lord bishop pope mayor judge marshal sheriff dean chancellor president director manager officer chief head
lead cook baker butler carpenter mason turner hunter fisher porter walker ward cash price cost rich money bill
bills case center centre state states nation nations united union city town village county camp land world
north south east west central upper lower mid middle ocean sea bay point port fort mount cape island valley
forest garden gardens market office home family child children baby man woman men women boy girl son daughter
mother father brother sister uncle aunt people person human health education food water shelter protection
nutrition security safety support service services care aid relief help emergency response action plan program
programme project team group cluster sector partner partners report data form survey update note notes total
sum number date time year years month week hour name names user admin guest test sample example demo unknown
none null various misc true false ok okay please thanks thank dear hello hi regards sincerely cheers kind warm
warmly respectfully yours cordially wash sue pat rob art guy don mark frank chase grant wade drew lance miles sterling
van gene ray jay bob rusty sandy dusty misty happy lucky buddy noble reed rod sky sunday christian christmas
easter english french german dutch spanish american african asian british chinese indian thai lao burmese
karen kachin shan chin mon bamar rakhine rohingya muslim hindu buddhist catholic baptist god lord jesus
allah buddha san santa saint st sao don dona del della de la le los las el al bin bint van von der den
das dos du di da ter ten mac mc o hong kong wan chai salt lime iron steel glass field victoria albert
washington jefferson madison austin houston dallas denver phoenix orlando
jordan israel egypt chad kenya georgia virginia carolina dakota florida indiana louisiana maryland nevada
china india japan korea france paris london berlin sydney vienna florence venice milan geneva lourdes
ireland england scotland wales asia africa europe america australia canada mexico brazil argentina chile peru
cuba haiti jamaica siena sierra leone niger sudan mali lebanon syria
""")
)

#: words that, right after a pair of capitalised words, make it an organisation / place / thing
_ORG_AFTER = (
    frozenset(
        _ws("""
hospital clinic school college university academy institute foundation trust fund association society union
council committee ministry department agency office bank restaurant cafe café bar hotel motel guesthouse inn
shop store market mall company co corp corporation inc ltd limited llc plc group holdings partners partnership
services service church mosque temple monastery pagoda cathedral chapel street st road rd avenue ave lane
boulevard blvd drive highway way square park bridge station airport port harbour harbor river lake hill
mountain mount valley township village tract ward district state region province county city town camp site
center centre hall house building tower plaza gardens garden stadium library museum theatre theater cinema
project programme program network alliance coalition federation league club team cluster sector initiative
award prize act law treaty convention declaration report index day week month year festival
""")
    )
    | NAME_STOP
)

#: Myanmar states/regions, districts and major townships (own list from MIMU naming conventions),
#: plus ethnic/state names that are also given names elsewhere ("Karen", "Chin", "Shan")
MYANMAR_ADMIN_NAMES = frozenset(
    fold(x)
    for x in _ws("""
kachin kayah kayin karen karenni chin sagaing tanintharyi tenasserim bago pegu magway magwe mandalay mon
rakhine arakan yangon rangoon shan ayeyarwady irrawaddy naypyitaw naypyidaw myitkyina bhamo mohnyin putao
hpakant waingmaw momauk loikaw demoso hpruso bawlakhe hpa-an hpaan hpapun myawaddy kawkareik hlaingbwe
kyainseikgyi falam hakha mindat matupi paletwa tedim tonzang kanpetlet monywa shwebo katha kale kalay tamu
hkamti mawlaik yinmarbin kani pale budalin dawei myeik kawthoung taungoo pyay thayarwady minbu thayet pakokku
gangaw meiktila myingyan kyaukse pyinoolwin yamethin nyaung-u mawlamyine thaton mudon ye sittwe mrauk-u
maungdaw buthidaung kyaukphyu thandwe rathedaung minbya pauktaw myebon ann taunggyi lashio kengtung muse
kyaukme hsipaw loilem tachileik langkho hopang matman mongmit namhsan kutkai laukkai pathein hinthada
myaungmya maubin pyapon labutta bogale insein hlaing thingangyun dagon hlegu hmawbi thanlyin twante kyauktan
ottarathiri dekkhina zabuthiri pobbathiri lewe pyinmana tatkon zeyarthiri kalaw pindaya hsihseng pekon
pinlaung mongton mongyai namtu manton tangyan myanmar burma kyar
""")
) | frozenset({"nay pyi taw", "ma kyar", "hpa an", "mrauk u", "nyaung u", "mawlamyine gyun"})

#: Myanmar honorifics / titles in Latin script: never evidence of a name on their own
_MM_HONORIFICS = HONORIFIC_LOWER | frozenset(
    {
        "daw",
        "u",
        "ko",
        "ma",
        "maung",
        "mg",
        "saw",
        "naw",
        "nan",
        "sai",
        "khun",
        "sayar",
        "saya",
        "sayama",
        "dr",
        "mr",
        "mrs",
        "ms",
    }
)

_TITLES = frozenset(_ws("mr mrs ms mx miss dr prof sr sra srta herr frau mme mlle madame monsieur mister doctor m"))


# --------------------------------------------------------------------------- column headers
NOT_PERSON_HEADER = frozenset(
    _ws("""
restaurant shop store business company firm organisation organization org orgs agency partner partners ngo ingo
facility facilities site sites school schools hospital clinic health camp village tract ward township district
state region province county admin1 admin2 admin3 admin4 adm1 adm2 adm3 adm4 adm0 admin0 country nationality
ethnicity ethnic religion tag tags group groups category categories type types title display cluster sector
project activity program programme donor vendor supplier brand product item commodity market city town place
location area zone office branch building street road hotel bank institution ministry department unit team
file dataset resource package license licence format indicator event language currency species crop disease
""")
)
_NOT_PERSON_PHRASES = (
    "display name",
    "display_name",
    "health facility",
    "health_facility",
    "business name",
    "org name",
    "site name",
    "school name",
    "facility name",
    "restaurant name",
    "shop name",
    "village name",
    "camp name",
    "dataset name",
    "file name",
    "tag name",
    "group name",
)

#: syllables of Myanmar *place* names in Latin script (own knowledge: kone = hill, ywa = village,
#: chaung = stream, kyun = island, taung = mountain, kan = lake, nyaung = banyan, kyauk = stone ...)
_MM_PLACE_SYL = frozenset(
    _ws("""kone gone ywa ywar ywama chaung kyun taung daung inn kan pin nyaung kyauk zay
pauk seik kwin gaung thit haung myaung gyaung hpo gyi gyee kyar ngu kyin sin taw tan dan hpa pyin wa kya""")
)
