"""Format readers.  Each takes a binary stream and a Collector, streams the content, and raises
Unreadable/Encrypted (plain words) on failure.  None of them writes to disk."""
