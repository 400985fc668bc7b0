// A test-only Matrix client on Element's own crypto stack (matrix-js-sdk + matrix-sdk-crypto-wasm, i.e.
// the Rust crypto that Element Web/Desktop run), driven line by line from Python
// (tests/e2e/strict_client.py). One process = one logged-in device.
//
// It runs in "exclude insecure devices" mode (OnlySignedDevicesIsolationMode, MSC4153), as Element does by
// default since April 2026: room keys go only to devices cross-signed by their owner, and messages from
// devices that are not cross-signed are refused (decryption error UNSIGNED_SENDER_DEVICE).
//
// PROTOCOL: stdin carries one JSON command per line; stdout carries one JSON object per line, either a reply
// or an event. Logs go to stderr only. The process exits 0 on `stop` or when stdin closes.
//
//   command: {"id": <any>, "cmd": "<name>", ...params}
//   reply:   {"id": <same>, "ok": true, ...result}        exactly one per command
//            {"id": <same>, "ok": false, "error": "<text>", "error_name": "<class>", "error_code": "<errcode>"|null}
//   event:   {"event": "<kind>", ...}                      no "id" key
//
// Commands (params -> result; "?" = optional):
//   login {homeserver, user_id, password, device_name?, cross_sign?=true, secret_storage?=true,
//          recovery_key?, auto_join?=false, isolation?="only_signed"}
//       -> {user_id, device_id, access_token, cross_signed, recovery_key, master_key, uia: [..]}
//       Password login, Rust crypto (in-memory store), strict isolation mode, initial sync done.
//       cross_sign=true and the user has no identity yet: create one the way Element does at first login
//         (bootstrapCrossSigning, UIA answered with the password) and, with secret_storage, secret storage
//         with a fresh recovery key (returned as recovery_key; the cross-signing private keys go there).
//       cross_sign=true and the user already has an identity: recovery_key is required; the private keys
//         are read from secret storage and this device signs itself ("verify with recovery key").
//       cross_sign=false: the device is left unsigned by its owner (an "insecure device").
//       `uia` lists how each user-interactive-auth round went: "none" (accepted without auth), "password".
//   cross_sign_device {device_id} -> {signed_by_owner}   sign one of our own other devices with our identity
//       (needs the private self-signing key here). Others then share keys with that device, but in strict
//       mode it still cannot SEND ("Encryption failed because your device is not verified") until it trusts
//       its own identity: run `verify_user` with its own user_id on that device (the new device's half of
//       an own-device emoji verification).
//   reset_identity {full?=false} -> {master_key, recovery_key}
//       full=false: bootstrapCrossSigning({setupNewCrossSigning:true}) (new identity, keys re-exported to
//       secret storage if it exists); full=true: CryptoApi.resetEncryption (Element's "Reset identity":
//       deletes secret storage + backups, new identity, new backup) followed by new secret storage.
//   create_dm {user_id | user_ids: [..], encrypted?=true, name?} -> {room_id}
//       trusted_private_chat, is_direct, m.room.encryption m.megolm.v1.aes-sha2; waits until synced.
//   join {room_id} -> {room_id}          leave {room_id} -> {}          invite {room_id, user_id} -> {}
//   wait_member {room_id, user_id, membership?="join", timeout_ms?=20000} -> {membership}
//   send_text {room_id, body, plain?=false, msgtype?="m.text", extra?: {...content keys}}
//       -> {sent: true, event_id} | {sent: false, error, error_name, error_code}
//       plain=true PUTs an UNENCRYPTED m.room.message straight to /send (attacker path), even in an
//       encrypted room. Send failures (e.g. identity-change errors of the strict mode) are NOT ok:false:
//       they come back as sent:false with the error class/code, and the failed local echo is cancelled.
//   send_reply {room_id, body, reply_to} -> like send_text (m.relates_to.m.in_reply_to)
//   send_file {room_id, path | data_b64, mimetype?, filename?, msgtype?="m.file"} -> like send_text + {mxc}
//       Encrypted rooms: AES-CTR attachment encryption (matrix-encrypt-attachment, as Element), upload of
//       the ciphertext, content {msgtype, body: filename, info: {mimetype, size}, file: {url, key, iv,
//       hashes, v}} — Element's shape (no "filename" key). Unencrypted rooms: plain upload with "url".
//   download {event_id, path?} -> {size, sha256, mimetype, data_b64 | path}   decrypts if "file" present
//   shield {event_id} -> {shield}        re-evaluate an event's shield now
//   user_verification_status {user_id, download?=true}
//       -> {known, verified, was_verified, needs_user_approval, has_cross_signing_keys}
//   device_info {user_id, device_id, download?=true}
//       -> {known, signed_by_owner, cross_signing_verified, local_verified, verified, display_name}
//   cross_signing_status -> {public_keys_on_device, private_keys_in_secret_storage, private_keys_cached,
//                            cross_signing_ready, own_device_signed, device_id}
//   own_master_key -> {master_key}       base64 public master cross-signing key (null if none)
//   verify_user {user_id} -> {verified}  the end result of an emoji (SAS) verification, without the dialogue:
//       another user: our user-signing key signs their master key (needs our private USK here);
//       our own user: this device marks its own identity trusted and signs the master key with its device key.
//   pin_identity {user_id} -> {}         accept a changed identity (Element's "OK" on the warning)
//   verify_user_in_dm {user_id, room_id, confirm?: true|false|null, timeout_ms?=120000}
//       -> {transaction_id, room_id}   Element's "Verify user" in a DM, i.e. in-room emoji (SAS) verification:
//       CryptoApi.requestVerificationDM (an m.room.message with msgtype m.key.verification.request; the
//       transaction id is its event id), then, once the other side is ready, startVerification("m.sas.v1").
//       Replies as soon as the request is sent; the rest runs in the background and reports `verification`
//       events. confirm=true/false answers the emoji at once ("They match" / "They don't match"); without it
//       the emoji wait for `verification_answer`.
//   verification_answer {transaction_id, match, timeout_ms?=30000} -> {}   answer the emoji of that flow
//   verification_status {transaction_id} -> {phase, cancel_code, cancelled_by}   (phase names as below)
//   set_isolation {mode: "only_signed"|"all", error_on_verified_user_problems?=false} -> {}
//   ping -> {}                           stop -> {} then exit 0
//
// Events:
//   {"event":"message", room_id, sender, event_id, ts, type, msgtype, body, encrypted, decrypted,
//    decryption_error, decryption_error_message, withheld_code, shield, room_encrypted, relates_to,
//    url, file, info, update}
//     encrypted: the event was m.room.encrypted on the wire; decrypted: encrypted AND decrypted OK;
//     decryption_error: DecryptionFailureCode (e.g. MEGOLM_KEY_WITHHELD_FOR_UNVERIFIED_DEVICE,
//     UNSIGNED_SENDER_DEVICE) or null; withheld_code: m.unverified / m.blacklisted / ... if the sender
//     withheld the key; shield: {colour: NONE|GREY|RED, reason: <EventShieldReason name>|null} from
//     getEncryptionInfoForEvent for decrypted events, else null. The same event_id is pushed again
//     (update: true) whenever its decryption state or shield changes (late keys, device list updates).
//   {"event":"invite", room_id, sender}
//   {"event":"verification", transaction_id, phase, ...}   progress of a verify_user_in_dm flow:
//     phase "ready" (other_device_id), "started", "sas" (emoji: [[symbol, name] x7], decimal: [n, n, n]),
//     "answered" (match), "done", "cancelled" (cancel_code, cancelled_by, error), "error" (error)
//   {"event":"ready", user_id, device_id}       after login
//   {"event":"fatal", error}                    unexpected crash; the process then exits 1

// Node 20 lacks Promise.withResolvers (matrix-js-sdk 43 targets Node 22).
if (typeof Promise.withResolvers !== "function") {
    Promise.withResolvers = function withResolvers() {
        let resolve;
        let reject;
        const promise = new this((res, rej) => {
            resolve = res;
            reject = rej;
        });
        return { promise, resolve, reject };
    };
}

import { Console } from "node:console";
import { createHash, randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";

// Everything that logs through console.* (matrix-js-sdk's loglevel logger, the wasm tracing) goes to stderr,
// so stdout carries protocol lines only.
const errConsole = new Console({ stdout: process.stderr, stderr: process.stderr });
for (const level of ["log", "info", "debug", "warn", "error", "trace"]) {
    console[level] = errConsole[level].bind(errConsole);
}

const sdk = await import("matrix-js-sdk");
const cryptoApi = await import("matrix-js-sdk/lib/crypto-api/index.js");
const { logger: sdkLogger } = await import("matrix-js-sdk/lib/logger.js");
const attachments = await import("matrix-encrypt-attachment");
const encryptAttachment = attachments.encryptAttachment ?? attachments.default?.encryptAttachment;
const decryptAttachment = attachments.decryptAttachment ?? attachments.default?.decryptAttachment;

const { ClientEvent, RoomEvent, MatrixEventEvent, EventType, Method, Preset, createClient } = sdk;
const {
    CryptoEvent, OnlySignedDevicesIsolationMode, AllDevicesIsolationMode, EventShieldColour, EventShieldReason,
    CrossSigningKey, VerificationPhase, VerifierEvent,
} = cryptoApi;

sdkLogger.setLevel(process.env.STRICT_CLIENT_LOG_LEVEL || "warn");

const WITHHELD_CODES = {
    "The sender has disabled encrypting to unverified devices.": "m.unverified",
    "The sender has blocked you.": "m.blacklisted",
    "You are not authorised to read the message.": "m.unauthorised",
    "The requested key was not found.": "m.unavailable",
    "Unable to establish a secure channel.": "m.no_olm",
};

// --------------------------------------------------------------------------------------------------------
// output

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + "\n");
}

function errorFields(err) {
    return {
        error: String(err?.message ?? err),
        error_name: err?.name ?? err?.constructor?.name ?? typeof err,
        error_code: err?.errcode ?? err?.code ?? null,
    };
}

// --------------------------------------------------------------------------------------------------------
// state

const state = {
    client: null,
    userId: null,
    deviceId: null,
    password: null,
    accessToken: null,
    homeserver: null,
    autoJoin: false,
    secretStorageKeys: new Map(), // keyId -> Uint8Array private key
    recoveryKey: null,
    uia: [],
    events: new Map(), // event_id -> MatrixEvent
    reported: new Map(), // event_id -> dedupe key of the last line pushed
    lastDecryptionError: new Map(), // event_id -> error message
    verifications: new Map(), // transaction id -> {request, verifier, callbacks, confirm}
    stopping: false,
};

function requireClient() {
    if (!state.client) throw new Error("not logged in (send `login` first)");
    return state.client;
}

function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(check, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await check();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(100);
    }
}

// --------------------------------------------------------------------------------------------------------
// user-interactive auth for /keys/device_signing/upload

function uiaCallback() {
    return async (makeRequest) => {
        try {
            const resp = await makeRequest(null);
            state.uia.push("none");
            return resp;
        } catch (err) {
            let data = err?.data;
            if (typeof data === "string") {
                try {
                    data = JSON.parse(data);
                } catch {
                    data = null;
                }
            }
            if (err?.httpStatus !== 401 || !data?.flows) throw err;
            const resp = await makeRequest({
                type: "m.login.password",
                identifier: { type: "m.id.user", user: state.userId },
                password: state.password,
                session: data.session,
            });
            state.uia.push("password");
            return resp;
        }
    };
}

// --------------------------------------------------------------------------------------------------------
// incoming events

function shieldName(info) {
    if (!info) return null;
    return {
        colour: EventShieldColour[info.shieldColour] ?? String(info.shieldColour),
        reason: info.shieldReason === null || info.shieldReason === undefined
            ? null : (EventShieldReason[info.shieldReason] ?? String(info.shieldReason)),
    };
}

async function computeShield(ev) {
    const crypto = state.client?.getCrypto();
    if (!crypto || !ev.isEncrypted() || ev.isDecryptionFailure() || ev.isBeingDecrypted()) return null;
    try {
        return shieldName(await crypto.getEncryptionInfoForEvent(ev));
    } catch (err) {
        return { colour: "UNKNOWN", reason: `error: ${err?.message ?? err}` };
    }
}

function isInteresting(ev) {
    if (!ev.getId()?.startsWith("$")) return false; // local echo
    if (ev.isDecryptionFailure()) return true;
    if (ev.isEncrypted() && ev.isBeingDecrypted()) return false; // wait for MatrixEventEvent.Decrypted
    if (ev.isEncrypted() && !ev.getClearContent() && !ev.isDecryptionFailure()) return false; // not tried yet
    return ev.getType() === EventType.RoomMessage;
}

async function roomEncrypted(roomId) {
    try {
        return await state.client.getCrypto().isEncryptionEnabledInRoom(roomId);
    } catch {
        return null;
    }
}

async function report(ev, { force = false } = {}) {
    if (!state.client || state.stopping) return;
    const eventId = ev.getId();
    if (!eventId || !isInteresting(ev)) return;
    state.events.set(eventId, ev);
    const encrypted = ev.isEncrypted();
    const failed = ev.isDecryptionFailure();
    const shield = await computeShield(ev);
    const key = JSON.stringify([failed, ev.decryptionFailureReason, shield]);
    const previous = state.reported.get(eventId);
    if (previous === key && !force) return;
    state.reported.set(eventId, key);
    const content = ev.getContent() ?? {};
    const errMessage = failed ? (state.lastDecryptionError.get(eventId) ?? content.body ?? null) : null;
    let withheld = null;
    if (failed && errMessage) {
        for (const [text, code] of Object.entries(WITHHELD_CODES)) {
            if (errMessage.includes(text)) withheld = code;
        }
    }
    emit({
        event: "message",
        room_id: ev.getRoomId(),
        sender: ev.getSender(),
        event_id: eventId,
        ts: ev.getTs(),
        type: ev.getType(),
        msgtype: failed ? null : (content.msgtype ?? null),
        body: failed ? null : (content.body ?? null),
        encrypted,
        decrypted: encrypted && !failed,
        decryption_error: failed ? (ev.decryptionFailureReason ?? "UNKNOWN_ERROR") : null,
        decryption_error_message: errMessage,
        withheld_code: withheld,
        shield,
        room_encrypted: await roomEncrypted(ev.getRoomId()),
        relates_to: failed ? null : (content["m.relates_to"] ?? null),
        url: failed ? null : (content.url ?? null),
        file: failed ? null : (content.file ?? null),
        info: failed ? null : (content.info ?? null),
        update: previous !== undefined,
    });
}

function reportSoon(ev, opts) {
    report(ev, opts).catch((err) => console.error("report failed", err));
}

let reshieldTimer = null;
function reshieldSoon() {
    // Device lists / identities changed: shields of already shown events may change (Element re-renders them).
    if (reshieldTimer) return;
    reshieldTimer = setTimeout(async () => {
        reshieldTimer = null;
        const recent = [...state.events.values()].slice(-300);
        for (const ev of recent) await report(ev).catch(() => {});
    }, 200);
}

function wireEvents(client) {
    client.on(RoomEvent.Timeline, (ev, room, toStartOfTimeline) => {
        if (toStartOfTimeline) return;
        reportSoon(ev);
    });
    client.on(MatrixEventEvent.Decrypted, (ev, err) => {
        if (err) state.lastDecryptionError.set(ev.getId(), String(err?.message ?? err));
        else state.lastDecryptionError.delete(ev.getId());
        reportSoon(ev);
    });
    client.on(RoomEvent.MyMembership, (room, membership, prevMembership) => {
        if (membership !== "invite" || prevMembership === "invite") return;
        const me = room.getMember(state.userId);
        const sender = me?.events?.member?.getSender() ?? null;
        emit({ event: "invite", room_id: room.roomId, sender });
        if (state.autoJoin) {
            client.joinRoom(room.roomId).catch((err) => console.error("auto-join failed", err));
        }
    });
    for (const name of [CryptoEvent.UserTrustStatusChanged, CryptoEvent.DevicesUpdated, CryptoEvent.KeysChanged]) {
        if (name) client.on(name, reshieldSoon);
    }
}

// --------------------------------------------------------------------------------------------------------
// commands

function isolationMode(mode, errorOnVerifiedUserProblems = false) {
    if (mode === "all") return new AllDevicesIsolationMode(Boolean(errorOnVerifiedUserProblems));
    if (mode === undefined || mode === null || mode === "only_signed") return new OnlySignedDevicesIsolationMode();
    throw new Error(`unknown isolation mode ${mode}`);
}

async function ownDeviceSigned() {
    const client = requireClient();
    const status = await client.getCrypto().getDeviceVerificationStatus(state.userId, state.deviceId);
    return Boolean(status?.signedByOwner);
}

async function setUpSecretStorage() {
    const crypto = requireClient().getCrypto();
    let generated = null;
    await crypto.bootstrapSecretStorage({
        setupNewSecretStorage: true,
        setupNewKeyBackup: false,
        createSecretStorageKey: async () => {
            generated = await crypto.createRecoveryKeyFromPassphrase();
            return generated;
        },
    });
    state.recoveryKey = generated?.encodedPrivateKey ?? null;
    return state.recoveryKey;
}

const commands = {
    async ping() {
        return {};
    },

    async login(p) {
        if (state.client) throw new Error("already logged in; one process is one device");
        for (const k of ["homeserver", "user_id", "password"]) if (!p[k]) throw new Error(`login: missing ${k}`);
        const crossSign = p.cross_sign !== false;
        state.homeserver = p.homeserver;
        state.userId = p.user_id;
        state.password = p.password;
        state.autoJoin = Boolean(p.auto_join);
        if (p.recovery_key) {
            const key = cryptoApi.decodeRecoveryKey(p.recovery_key);
            state.secretStorageKeys.set("*", key);
            state.recoveryKey = p.recovery_key;
        }

        const loginClient = createClient({ baseUrl: p.homeserver });
        const resp = await loginClient.loginRequest({
            type: "m.login.password",
            identifier: { type: "m.id.user", user: p.user_id },
            password: p.password,
            initial_device_display_name: p.device_name ?? "strict-client",
        });
        loginClient.stopClient();
        state.deviceId = resp.device_id;
        state.accessToken = resp.access_token;

        const client = createClient({
            baseUrl: p.homeserver,
            userId: resp.user_id,
            deviceId: resp.device_id,
            accessToken: resp.access_token,
            timelineSupport: true,
            cryptoCallbacks: {
                getSecretStorageKey: async ({ keys }) => {
                    for (const keyId of Object.keys(keys)) {
                        const k = state.secretStorageKeys.get(keyId) ?? state.secretStorageKeys.get("*");
                        if (k) return [keyId, k];
                    }
                    return null;
                },
                cacheSecretStorageKey: (keyId, keyInfo, key) => {
                    state.secretStorageKeys.set(keyId, key);
                },
            },
        });
        state.client = client;
        await client.initRustCrypto({ useIndexedDB: false });
        const crypto = client.getCrypto();
        crypto.setDeviceIsolationMode(isolationMode(p.isolation));
        wireEvents(client);

        const prepared = new Promise((resolve, reject) => {
            const onSync = (syncState, prev, data) => {
                if (syncState === "PREPARED" || syncState === "SYNCING") {
                    client.off(ClientEvent.Sync, onSync);
                    resolve();
                } else if (syncState === "ERROR" && !client.isInitialSyncComplete()) {
                    client.off(ClientEvent.Sync, onSync);
                    reject(data?.error ?? new Error("initial sync failed"));
                }
            };
            client.on(ClientEvent.Sync, onSync);
        });
        await client.startClient({
            initialSyncLimit: 20,
            lazyLoadMembers: false,
            pendingEventOrdering: sdk.PendingEventOrdering.Detached,
        });
        await Promise.race([prepared, sleep(60000).then(() => {
            throw new Error("initial sync did not finish within 60 s");
        })]);

        let recoveryKey = null;
        if (crossSign) {
            const hasIdentity = await crypto.userHasCrossSigningKeys(state.userId, true);
            if (hasIdentity && !p.recovery_key) {
                throw new Error("this user already has a cross-signing identity: pass recovery_key (from the first " +
                    "login) or log in with cross_sign=false and use cross_sign_device on a signed device");
            }
            await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: uiaCallback() });
            if (!hasIdentity && p.secret_storage !== false) {
                recoveryKey = await setUpSecretStorage();
            }
            await waitFor(ownDeviceSigned, 20000, "own device to be signed by its owner");
        }
        const ready = { user_id: state.userId, device_id: state.deviceId };
        emit({ event: "ready", ...ready });
        return {
            ...ready,
            access_token: state.accessToken,
            cross_signed: await ownDeviceSigned(),
            recovery_key: recoveryKey ?? state.recoveryKey,
            master_key: await crypto.getCrossSigningKeyId(CrossSigningKey.Master),
            uia: state.uia,
        };
    },

    async cross_sign_device(p) {
        const crypto = requireClient().getCrypto();
        await waitFor(async () => {
            const map = await crypto.getUserDeviceInfo([state.userId], true);
            return map.get(state.userId)?.has(p.device_id);
        }, 20000, `device ${p.device_id} in our device list`);
        await crypto.crossSignDevice(p.device_id);
        const status = await waitFor(async () => {
            await crypto.getUserDeviceInfo([state.userId], true);
            const s = await crypto.getDeviceVerificationStatus(state.userId, p.device_id);
            return s?.signedByOwner ? s : null;
        }, 20000, `device ${p.device_id} to show our signature`);
        return { signed_by_owner: status.signedByOwner };
    },

    async reset_identity(p) {
        const crypto = requireClient().getCrypto();
        const before = await crypto.getCrossSigningKeyId(CrossSigningKey.Master);
        let recoveryKey = state.recoveryKey;
        if (p.full) {
            await crypto.resetEncryption(uiaCallback());
            recoveryKey = await setUpSecretStorage();
            await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: uiaCallback() });
        } else {
            await crypto.bootstrapCrossSigning({ setupNewCrossSigning: true, authUploadDeviceSigningKeys: uiaCallback() });
        }
        const after = await waitFor(async () => {
            const k = await crypto.getCrossSigningKeyId(CrossSigningKey.Master);
            return k && k !== before ? k : null;
        }, 20000, "a new master key");
        await waitFor(ownDeviceSigned, 20000, "own device signed by the new identity");
        return { master_key: after, previous_master_key: before, recovery_key: recoveryKey, uia: state.uia };
    },

    async create_dm(p) {
        const client = requireClient();
        const invite = p.user_ids ?? (p.user_id ? [p.user_id] : []);
        const encrypted = p.encrypted !== false;
        const opts = {
            preset: Preset.TrustedPrivateChat,
            is_direct: invite.length === 1 && !p.name,
            invite,
            initial_state: encrypted
                ? [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }]
                : [],
        };
        if (p.name) opts.name = p.name;
        const { room_id: roomId } = await client.createRoom(opts);
        await waitFor(async () => {
            const room = client.getRoom(roomId);
            if (!room || room.getMyMembership() !== "join") return false;
            return encrypted ? await client.getCrypto().isEncryptionEnabledInRoom(roomId) : true;
        }, 20000, `room ${roomId} to sync`);
        return { room_id: roomId };
    },

    async join(p) {
        const client = requireClient();
        await client.joinRoom(p.room_id);
        await waitFor(() => client.getRoom(p.room_id)?.getMyMembership() === "join", 20000, `join of ${p.room_id}`);
        return { room_id: p.room_id };
    },

    async leave(p) {
        await requireClient().leave(p.room_id);
        return {};
    },

    async invite(p) {
        await requireClient().invite(p.room_id, p.user_id);
        return {};
    },

    async wait_member(p) {
        const client = requireClient();
        const want = p.membership ?? "join";
        await waitFor(() => client.getRoom(p.room_id)?.getMember(p.user_id)?.membership === want,
            p.timeout_ms ?? 20000, `${p.user_id} to be '${want}' in ${p.room_id}`);
        return { membership: want };
    },

    async send_text(p) {
        const content = { msgtype: p.msgtype ?? "m.text", body: String(p.body ?? ""), ...(p.extra ?? {}) };
        return await sendContent(p.room_id, content, Boolean(p.plain));
    },

    async send_reply(p) {
        const content = {
            msgtype: p.msgtype ?? "m.text",
            body: String(p.body ?? ""),
            "m.relates_to": { "m.in_reply_to": { event_id: p.reply_to } },
        };
        return await sendContent(p.room_id, content, Boolean(p.plain));
    },

    async send_file(p) {
        const client = requireClient();
        const data = p.path ? await readFile(p.path) : Buffer.from(p.data_b64 ?? "", "base64");
        const filename = p.filename ?? (p.path ? p.path.split("/").pop() : "attachment");
        const mimetype = p.mimetype ?? "application/octet-stream";
        const content = { msgtype: p.msgtype ?? "m.file", body: filename, info: { mimetype, size: data.length } };
        const encrypted = !p.plain && (await client.getCrypto().isEncryptionEnabledInRoom(p.room_id));
        let mxc;
        if (encrypted) {
            const ab = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
            const result = await encryptAttachment(ab);
            const upload = await client.uploadContent(Buffer.from(result.data),
                { type: "application/octet-stream", includeFilename: false });
            mxc = upload.content_uri;
            content.file = { ...result.info, url: mxc };
        } else {
            const upload = await client.uploadContent(data, { type: mimetype, name: filename });
            mxc = upload.content_uri;
            content.url = mxc;
        }
        return { ...(await sendContent(p.room_id, content, Boolean(p.plain))), mxc };
    },

    async download(p) {
        const client = requireClient();
        const ev = state.events.get(p.event_id) ?? findEvent(p.event_id);
        if (!ev) throw new Error(`unknown event ${p.event_id}`);
        if (ev.isDecryptionFailure()) throw new Error(`event ${p.event_id} is not decrypted`);
        const content = ev.getContent();
        const mxc = content.file?.url ?? content.url;
        if (!mxc) throw new Error(`event ${p.event_id} has no attachment`);
        const url = client.mxcUrlToHttp(mxc, undefined, undefined, undefined, false, true, true);
        const resp = await fetch(url, {
            headers: { Authorization: `Bearer ${state.accessToken}` },
            signal: AbortSignal.timeout(30000),
        });
        if (!resp.ok) throw new Error(`download of ${mxc} failed: HTTP ${resp.status} ${await resp.text()}`);
        let bytes = await resp.arrayBuffer();
        if (content.file) bytes = await decryptAttachment(bytes, content.file);
        const buf = Buffer.from(bytes);
        const out = {
            size: buf.length,
            sha256: createHash("sha256").update(buf).digest("hex"),
            mimetype: content.info?.mimetype ?? null,
            filename: content.filename ?? content.body ?? null,
            encrypted_attachment: Boolean(content.file),
        };
        if (p.path) {
            await writeFile(p.path, buf);
            out.path = p.path;
        } else {
            out.data_b64 = buf.toString("base64");
        }
        return out;
    },

    async shield(p) {
        const ev = state.events.get(p.event_id) ?? findEvent(p.event_id);
        if (!ev) throw new Error(`unknown event ${p.event_id}`);
        return { shield: await computeShield(ev), decryption_error: ev.decryptionFailureReason ?? null };
    },

    async user_verification_status(p) {
        const crypto = requireClient().getCrypto();
        if (p.download !== false) await crypto.getUserDeviceInfo([p.user_id], true);
        const s = await crypto.getUserVerificationStatus(p.user_id);
        return {
            known: Boolean(s.known),
            verified: s.isCrossSigningVerified(),
            was_verified: s.wasCrossSigningVerified(),
            needs_user_approval: Boolean(s.needsUserApproval),
            has_cross_signing_keys: await crypto.userHasCrossSigningKeys(p.user_id, p.download !== false),
        };
    },

    async device_info(p) {
        const crypto = requireClient().getCrypto();
        const map = await crypto.getUserDeviceInfo([p.user_id], p.download !== false);
        const device = map.get(p.user_id)?.get(p.device_id);
        const s = await crypto.getDeviceVerificationStatus(p.user_id, p.device_id);
        if (!device || !s) {
            return { known: false, signed_by_owner: false, cross_signing_verified: false, local_verified: false,
                verified: false, display_name: null };
        }
        return {
            known: true,
            signed_by_owner: s.signedByOwner,
            cross_signing_verified: s.crossSigningVerified,
            local_verified: s.localVerified,
            verified: s.isVerified(),
            display_name: device.displayName ?? null,
        };
    },

    async cross_signing_status() {
        const crypto = requireClient().getCrypto();
        const s = await crypto.getCrossSigningStatus();
        return {
            public_keys_on_device: s.publicKeysOnDevice,
            private_keys_in_secret_storage: s.privateKeysInSecretStorage,
            private_keys_cached: s.privateKeysCachedLocally,
            cross_signing_ready: await crypto.isCrossSigningReady(),
            own_device_signed: await ownDeviceSigned(),
            device_id: state.deviceId,
        };
    },

    async own_master_key() {
        const crypto = requireClient().getCrypto();
        return { master_key: await crypto.getCrossSigningKeyId(CrossSigningKey.Master) };
    },

    async verify_user(p) {
        // What a completed SAS verification ends with: our user-signing key signs their master key.
        // Uses the RustCrypto internals (olmMachine, outgoingRequestProcessor): a test shortcut only.
        const crypto = requireClient().getCrypto();
        await crypto.getUserDeviceInfo([p.user_id], true);
        const { UserId } = await import("@matrix-org/matrix-sdk-crypto-wasm");
        const identity = await crypto.olmMachine.getIdentity(new UserId(p.user_id));
        if (!identity) throw new Error(`${p.user_id} has no cross-signing identity`);
        try {
            const request = await identity.verify();
            await crypto.outgoingRequestProcessor.makeOutgoingRequest(request);
        } finally {
            identity.free();
        }
        const verified = await waitFor(async () => {
            const s = await crypto.getUserVerificationStatus(p.user_id);
            return s.isCrossSigningVerified() ? true : null;
        }, 20000, `${p.user_id} to be verified`);
        return { verified };
    },

    async pin_identity(p) {
        await requireClient().getCrypto().pinCurrentUserIdentity(p.user_id);
        return {};
    },

    async verify_user_in_dm(p) {
        const crypto = requireClient().getCrypto();
        for (const k of ["user_id", "room_id"]) if (!p[k]) throw new Error(`verify_user_in_dm: missing ${k}`);
        await crypto.getUserDeviceInfo([p.user_id], true); // the identity must be known to request
        const request = await crypto.requestVerificationDM(p.user_id, p.room_id);
        const txn = request.transactionId;
        const entry = { request, verifier: null, callbacks: null, confirm: p.confirm ?? null };
        state.verifications.set(txn, entry);
        runVerification(txn, entry, p.timeout_ms ?? 120000).catch((err) =>
            emitVerification(txn, "error", { error: String(err?.message ?? err) }));
        return { transaction_id: txn, room_id: request.roomId ?? p.room_id };
    },

    async verification_answer(p) {
        const entry = state.verifications.get(p.transaction_id);
        if (!entry) throw new Error(`unknown verification ${p.transaction_id}`);
        const callbacks = await waitFor(() => entry.callbacks, p.timeout_ms ?? 30000,
            `the emoji of ${p.transaction_id}`);
        answerSas(p.transaction_id, callbacks, Boolean(p.match));
        return {};
    },

    async verification_status(p) {
        const entry = state.verifications.get(p.transaction_id);
        if (!entry) throw new Error(`unknown verification ${p.transaction_id}`);
        return { phase: phaseName(entry.request.phase), ...cancelInfo(entry.request) };
    },

    async set_isolation(p) {
        requireClient().getCrypto().setDeviceIsolationMode(isolationMode(p.mode, p.error_on_verified_user_problems));
        return {};
    },

    async stop() {
        setImmediate(() => shutdown(0));
        return {};
    },
};

// --------------------------------------------------------------------------------------------------------
// in-room (DM) verification

function phaseName(phase) {
    return (VerificationPhase[phase] ?? String(phase)).toLowerCase();
}

function cancelInfo(request) {
    return { cancel_code: request.cancellationCode ?? null, cancelled_by: request.cancellingUserId ?? null };
}

function emitVerification(txn, phase, extra = {}) {
    emit({ event: "verification", transaction_id: txn, phase, ...extra });
}

function answerSas(txn, callbacks, match) {
    emitVerification(txn, "answered", { match });
    if (match) {
        callbacks.confirm().catch((err) => console.error("SAS confirm failed", err));
    } else {
        callbacks.mismatch();
    }
}

async function runVerification(txn, entry, timeoutMs) {
    const { request } = entry;
    const settled = [VerificationPhase.Ready, VerificationPhase.Started, VerificationPhase.Cancelled,
        VerificationPhase.Done];
    await waitFor(() => settled.includes(request.phase), timeoutMs, `the other side to answer request ${txn}`);
    if (request.phase === VerificationPhase.Cancelled) {
        emitVerification(txn, "cancelled", cancelInfo(request));
        return;
    }
    emitVerification(txn, "ready", { other_device_id: request.otherDeviceId ?? null });
    const verifier = await request.startVerification("m.sas.v1");
    entry.verifier = verifier;
    emitVerification(txn, "started");
    const onShowSas = (callbacks) => {
        if (entry.callbacks) return;
        entry.callbacks = callbacks;
        emitVerification(txn, "sas", { emoji: callbacks.sas.emoji ?? null, decimal: callbacks.sas.decimal ?? null });
        if (entry.confirm === true || entry.confirm === false) answerSas(txn, callbacks, entry.confirm);
    };
    verifier.on(VerifierEvent.ShowSas, onShowSas);
    const shown = verifier.getShowSasCallbacks();
    if (shown) onShowSas(shown);
    try {
        await verifier.verify(); // resolves once both sides sent done; rejects when cancelled
        emitVerification(txn, "done", { phase_name: phaseName(request.phase) });
    } catch (err) {
        emitVerification(txn, "cancelled", { ...cancelInfo(request), error: String(err?.message ?? err) });
    }
}

function findEvent(eventId) {
    for (const room of state.client?.getRooms() ?? []) {
        const ev = room.findEventById(eventId);
        if (ev) return ev;
    }
    return null;
}

async function sendContent(roomId, content, plain) {
    const client = requireClient();
    const room = client.getRoom(roomId);
    if (!room || room.getMyMembership() !== "join") throw new Error(`not joined to ${roomId}`);
    if (plain) {
        const txn = "strict-plain-" + randomBytes(8).toString("hex");
        const path = `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${encodeURIComponent(txn)}`;
        const resp = await client.http.authedRequest(Method.Put, path, undefined, content);
        return { sent: true, event_id: resp.event_id, plain: true };
    }
    try {
        const resp = await client.sendMessage(roomId, content);
        return { sent: true, event_id: resp.event_id, plain: false };
    } catch (err) {
        // Leave no failed local echo behind: Element would show it with "resend"; we just drop it.
        for (const ev of room.getPendingEvents?.() ?? []) {
            if (ev.status === sdk.EventStatus.NOT_SENT) {
                try {
                    client.cancelPendingEvent(ev);
                } catch {
                    /* already gone */
                }
            }
        }
        return { sent: false, ...errorFields(err), cause: err?.cause ? String(err.cause?.message ?? err.cause) : null };
    }
}

// --------------------------------------------------------------------------------------------------------
// main loop

let shuttingDown = false;
async function shutdown(code) {
    if (shuttingDown) return;
    shuttingDown = true;
    state.stopping = true;
    try {
        state.client?.stopClient();
    } catch (err) {
        console.error("stopClient failed", err);
    }
    // Let stdout drain, then exit whatever is still pending (sync long-polls, timers).
    process.stdout.write("", () => process.exit(code));
    setTimeout(() => process.exit(code), 2000).unref();
}

async function handleLine(line) {
    line = line.trim();
    if (!line) return;
    let msg;
    try {
        msg = JSON.parse(line);
    } catch (err) {
        emit({ id: null, ok: false, error: `bad JSON: ${err.message}`, error_name: "SyntaxError", error_code: null });
        return;
    }
    const id = msg.id ?? null;
    const handler = Object.prototype.hasOwnProperty.call(commands, msg.cmd) ? commands[msg.cmd] : null;
    if (!handler) {
        emit({ id, ok: false, error: `unknown command ${JSON.stringify(msg.cmd)}`, error_name: "UnknownCommand",
            error_code: null });
        return;
    }
    try {
        const result = await handler(msg);
        emit({ ...result, id, ok: true });
    } catch (err) {
        console.error(`command ${msg.cmd} failed:`, err);
        emit({ id, ok: false, ...errorFields(err) });
    }
}

process.on("unhandledRejection", (err) => {
    console.error("unhandled rejection:", err);
});
process.on("uncaughtException", (err) => {
    console.error("uncaught exception:", err);
    emit({ event: "fatal", error: String(err?.stack ?? err) });
    shutdown(1);
});

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on("line", (line) => {
    handleLine(line);
});
rl.on("close", () => shutdown(0));
