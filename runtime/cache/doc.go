// Package cache is HAProxy 2.6's small HTTP object cache (src/cache.c,
// configuration.txt section 6 "Cache"): the primary key of a request
// (a SHA-1 of its host and URI), the secondary key that "Vary" selects
// (Accept-Encoding normalised to a bitmap of codings, Referer), the
// cacheability rules of requests and responses, the expiry of objects
// (s-maxage, max-age, Expires, the section's max-age), conditional
// requests answered 304, and the storage itself: objects counted in
// blocks of 1 KiB within total-max-size, no object above
// max-object-size, the least recently used evicted first.
//
// It reads messages through the Headers interface and knows nothing of
// connections; the runtime feeds a stored response to a Writer as it
// streams to the client and serves hits from an Entry.
package cache
