/*
 * test_netaddr.c: lib/netaddr.c, the loopback check behind the access rule
 * of /board and /metrics.
 *
 * Must never: pass an address that is not loopback, or one it cannot parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "netaddr.h"

static void
test_loopback(void **state)
{
	static const char *const yes[] = {
		"127.0.0.1", "127.0.0.2", "127.255.255.254", "127.1.2.3",
		"::1", "0:0:0:0:0:0:0:1", "[::1]", "::ffff:127.0.0.1",
		"::FFFF:127.9.9.9", "[::ffff:127.0.0.1]",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (!netaddr_is_loopback(yes[i]))
			fail_msg("%s: not taken for loopback", yes[i]);
}

static void
test_remote(void **state)
{
	static const char *const no[] = {
		"10.0.0.1", "192.168.1.1", "172.16.0.1", "8.8.8.8",
		"128.0.0.1", "126.255.255.255", "0.0.0.0", "::", "::2",
		"fe80::1", "fe80::1%lo", "::ffff:10.0.0.1", "::ffff:128.0.0.1",
		"2001:db8::1", "::127.0.0.1",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (netaddr_is_loopback(no[i]))
			fail_msg("%s: taken for loopback", no[i]);
}

static void
test_garbage(void **state)
{
	static const char *const bad[] = {
		"", "localhost", "127.1", "127.0.0.1.", " 127.0.0.1",
		"127.0.0.1 ", "127.0.0.01", "0177.0.0.1", "127.0.0.256",
		"[127.0.0.1", "[::1", "::1]", "[]", "[", "127.0.0.1:80",
		"127.0.0.1/8", "1270.0.0.1",
		"127.0.0.1xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	(void)state;
	assert_false(netaddr_is_loopback(NULL));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (netaddr_is_loopback(bad[i]))
			fail_msg("\"%s\": taken for loopback", bad[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_remote),
		cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
