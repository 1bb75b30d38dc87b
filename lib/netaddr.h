/*
 * netaddr.h: what the HTTP server needs to know about a peer's address.
 * Pure: no I/O, no logging.
 */
#ifndef CRISISCAST_NETADDR_H
#define CRISISCAST_NETADDR_H

#include <stdbool.h>

/*
 * true when addr (numeric, as the socket reports it: "127.0.0.1", "::1",
 * "::ffff:127.0.0.1", optionally in [brackets]) is a loopback address:
 * 127.0.0.0/8, ::1, or an IPv4-mapped 127.0.0.0/8. Anything else,
 * including names, scoped addresses, NULL and garbage, is false: a caller
 * that trusts loopback must never trust what it cannot parse.
 */
bool netaddr_is_loopback(const char *addr);

#endif
