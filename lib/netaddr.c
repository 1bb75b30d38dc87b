/*
 * netaddr.c: peer address checks for the HTTP server's access rules
 * (/board, /metrics). Never resolves names.
 */
#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define ADDR_MAX 64

bool
netaddr_is_loopback(const char *addr)
{
	char tmp[ADDR_MAX];
	struct in_addr v4;
	struct in6_addr v6;
	size_t len;

	if (addr == NULL)
		return false;
	len = strnlen(addr, ADDR_MAX);
	if (len == 0 || len >= ADDR_MAX)
		return false;
	if (addr[0] == '[') {
		if (len < 3 || addr[len - 1] != ']')
			return false;
		memcpy(tmp, addr + 1, len - 2);
		tmp[len - 2] = '\0';
	} else
		memcpy(tmp, addr, len + 1);
	/* inet_pton takes only full dotted quads: no "127.1", no octal. */
	if (inet_pton(AF_INET, tmp, &v4) == 1)
		return (ntohl(v4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, tmp, &v6) == 1) {
		if (IN6_IS_ADDR_LOOPBACK(&v6))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
	}
	return false;
}
