/*
 * test_crypto.c: lib/crypto.c: SHA-256, HMAC-SHA256, base64url, the link
 * tokens and constant-time comparison.
 *
 * Must never: derive an expected value with the code under test. Digests
 * are published vectors (FIPS 180-2, RFC 4231, RFC 4648); the token
 * vectors were computed separately with Python's hmac and base64 modules:
 *   hmac.new(bytes(range(32)), b"approval:" + b"\xa5" * 16,
 *            hashlib.sha256).digest()[:16], base64url without "=".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crypto.h"
#include "util.h"

static void
expect_hex(const uint8_t *p, size_t n, const char *want)
{
	char hex[2 * 64 + 1];

	assert_true(n <= 64);
	hex_encode(p, n, hex);
	assert_string_equal(hex, want);
}

static void
test_sha256(void **state)
{
	uint8_t out[SHA256_BYTES];
	char *million;

	(void)state;
	crypto_sha256("", 0, out);
	expect_hex(out, sizeof(out), "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	crypto_sha256("abc", 3, out);
	expect_hex(out, sizeof(out), "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	crypto_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, out);
	expect_hex(out, sizeof(out), "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	million = xmalloc(1000000);
	memset(million, 'a', 1000000);
	crypto_sha256(million, 1000000, out);
	expect_hex(out, sizeof(out), "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	free(million);

	/* token_hash is SHA-256 of the token's text. */
	token_hash("abc", out);
	expect_hex(out, sizeof(out), "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");

	uint8_t b[3] = { 0x00, 0x7f, 0xff };
	char hex[7];
	hex_encode(b, 3, hex);
	assert_string_equal(hex, "007fff");
	hex_encode(b, 0, hex);
	assert_string_equal(hex, "");
}

static void
test_hmac(void **state)
{
	uint8_t out[SHA256_BYTES], key[131];
	static const char *const data6 =
	    "Test Using Larger Than Block-Size Key - Hash Key First";

	(void)state;
	/* RFC 4231 test case 1. */
	memset(key, 0x0b, 20);
	crypto_hmac_sha256(key, 20, "Hi There", 8, out);
	expect_hex(out, sizeof(out), "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7");
	/* RFC 4231 test case 2. */
	crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
	expect_hex(out, sizeof(out), "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843");
	/* RFC 4231 test case 6: a key longer than the block. */
	memset(key, 0xaa, sizeof(key));
	crypto_hmac_sha256(key, sizeof(key), data6, strlen(data6), out);
	expect_hex(out, sizeof(out), "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54");
}

static void
test_random(void **state)
{
	uint8_t a[32] = {0}, b[32] = {0}, zero[32] = {0};

	(void)state;
	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_false(crypto_equal(a, b, sizeof(a)));
	assert_false(crypto_equal(a, zero, sizeof(a)));
	assert_int_equal(crypto_random(a, 0), 0);
}

static void
test_equal(void **state)
{
	uint8_t a[16], b[16];

	(void)state;
	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_true(crypto_equal(a, b, sizeof(a)));
	assert_true(crypto_equal(a, b, 0));
	/* A difference in any byte, and in any bit, is seen. */
	for (size_t i = 0; i < sizeof(a); i++)
		for (int bit = 0; bit < 8; bit++) {
			memcpy(b, a, sizeof(b));
			b[i] ^= (uint8_t)(1u << bit);
			assert_false(crypto_equal(a, b, sizeof(a)));
			/* Only the first n bytes count. */
			assert_true(crypto_equal(a, b, i));
		}
}

static void
expect_b64(const char *raw, size_t n, const char *want)
{
	char out[64];
	uint8_t back[64];
	size_t len = 999;

	assert_int_equal(b64url_encode((const uint8_t *)raw, n, out),
	    strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(b64url_decode(want, strlen(want), back, sizeof(back),
	    &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(back, raw, n);
}

static void
expect_b64_bad(const char *s)
{
	uint8_t out[64];
	size_t len = 999;

	if (b64url_decode(s, strlen(s), out, sizeof(out), &len) != -1)
		fail_msg("b64url_decode(\"%s\") accepted", s);
	assert_int_equal(len, 999);
}

static void
test_b64url(void **state)
{
	uint8_t all[256], back[256];
	char text[400];
	size_t len;

	(void)state;
	/* RFC 4648 section 10, without padding. */
	expect_b64("", 0, "");
	expect_b64("f", 1, "Zg");
	expect_b64("fo", 2, "Zm8");
	expect_b64("foo", 3, "Zm9v");
	expect_b64("foob", 4, "Zm9vYg");
	expect_b64("fooba", 5, "Zm9vYmE");
	expect_b64("foobar", 6, "Zm9vYmFy");
	/* The URL alphabet: - and _ where base64 has + and /. */
	expect_b64("\xfb\xff", 2, "-_8");
	expect_b64("\xfb\xef\xbe", 3, "----");
	expect_b64("\xff\xff\xff", 3, "____");
	expect_b64("\0\0\0", 3, "AAAA");

	/* Every length and every byte value round-trips. */
	for (size_t i = 0; i < sizeof(all); i++)
		all[i] = (uint8_t)(255 - i);
	for (size_t n = 0; n <= sizeof(all); n++) {
		size_t tl = b64url_encode(all, n, text);
		assert_int_equal(tl, (4 * n + 2) / 3);
		assert_int_equal(strlen(text), tl);
		assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_"), tl);
		assert_int_equal(b64url_decode(text, tl, back, sizeof(back),
		    &len), 0);
		assert_int_equal(len, n);
		assert_memory_equal(back, all, n);
	}

	/* Standard base64, padding and other characters are refused. */
	expect_b64_bad("+_8");
	expect_b64_bad("-/8");
	expect_b64_bad("Zg==");
	expect_b64_bad("Zg=");
	expect_b64_bad("Zm9v=");
	expect_b64_bad("Zm 9v");
	expect_b64_bad("Zm9v\n");
	expect_b64_bad("Zm.v");
	expect_b64_bad("Zm9\xc3\xa9");
	/* Impossible lengths. */
	expect_b64_bad("Z");
	expect_b64_bad("Zm9vY");
	expect_b64_bad("Zm9vYmFyZ");
	/* Non-canonical trailing bits. */
	expect_b64_bad("Zh");		/* canonical: Zg */
	expect_b64_bad("Zm9");		/* canonical: Zm8 */
	expect_b64_bad("Zm9vYh");
	expect_b64_bad("__");
	expect_b64_bad("___");
	/* A NUL inside the given length. */
	uint8_t out[8];
	len = 999;
	assert_int_equal(b64url_decode("Zm\0v", 4, out, sizeof(out), &len), -1);
	/* Output larger than the buffer. */
	assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 5, &len), -1);
	assert_int_equal(b64url_decode("Zm9vYmFy", 8, out, 6, &len), 0);
	assert_int_equal(len, 6);
}

static const uint8_t key1[TOKEN_KEY_BYTES] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

static void
test_token_derive(void **state)
{
	uint8_t salt[SALT_BYTES], salt2[SALT_BYTES], key2[TOKEN_KEY_BYTES];
	uint8_t h[SHA256_BYTES];
	char a[TOKEN_CHARS + 1], b[TOKEN_CHARS + 1];

	(void)state;
	memset(salt, 0xa5, sizeof(salt));
	token_derive(key1, "approval", salt, a);
	assert_string_equal(a, "1Rfm_FKPlBUDnOotRZs2Lg");
	assert_int_equal(strlen(a), TOKEN_CHARS);
	assert_int_equal(TOKEN_CHARS, 22);
	assert_true(token_wellformed(a, strlen(a)));
	token_hash(a, h);
	expect_hex(h, sizeof(h), "596b49052bb451113c19185876b2c2d1"
	    "e5d0dc39fcdf4c5b0a7c6fa52025c5d6");

	/* Deterministic. */
	token_derive(key1, "approval", salt, b);
	assert_string_equal(a, b);
	/* Differs by purpose. */
	token_derive(key1, "alert", salt, b);
	assert_string_equal(b, "a0qikv4s3eZuIQEaqNt3xQ");
	/* Differs by one bit of salt. */
	memcpy(salt2, salt, sizeof(salt2));
	salt2[SALT_BYTES - 1] ^= 1;
	token_derive(key1, "approval", salt2, b);
	assert_string_equal(b, "hx5K1Tfj8Img53ivXIkOWg");
	/* Differs by key. */
	memcpy(key2, key1, sizeof(key2));
	key2[0] ^= 0x80;
	token_derive(key2, "approval", salt, b);
	assert_string_not_equal(a, b);
	assert_true(token_wellformed(b, strlen(b)));

	/* Many random salts: always well-formed, never the same. */
	char prev[TOKEN_CHARS + 1] = "";
	for (int i = 0; i < 200; i++) {
		assert_int_equal(crypto_random(salt, sizeof(salt)), 0);
		token_derive(key1, "alert", salt, a);
		assert_int_equal(strlen(a), TOKEN_CHARS);
		assert_true(token_wellformed(a, TOKEN_CHARS));
		assert_string_not_equal(a, prev);
		memcpy(prev, a, sizeof(prev));
	}
}

static void
test_token_wellformed(void **state)
{
	char s[64];
	static const char good[] = "1Rfm_FKPlBUDnOotRZs2Lg";

	(void)state;
	assert_true(token_wellformed(good, 22));
	assert_true(token_wellformed("AAAAAAAAAAAAAAAAAAAAAA", 22));
	assert_true(token_wellformed("_____________________w", 22));
	/* Every wrong length from 0 to 40. */
	for (size_t len = 0; len <= 40; len++) {
		memset(s, 'A', len);
		s[len] = '\0';
		if (len == TOKEN_CHARS)
			assert_true(token_wellformed(s, len));
		else if (token_wellformed(s, len))
			fail_msg("length %zu accepted", len);
	}
	/* Any character outside the alphabet, at any place. */
	static const char bad[] = "+/=. \n\t\"'%&?#!~*@";
	for (size_t i = 0; i < TOKEN_CHARS; i++)
		for (size_t j = 0; j < sizeof(bad) - 1; j++) {
			memcpy(s, good, sizeof(good));
			s[i] = bad[j];
			if (token_wellformed(s, TOKEN_CHARS))
				fail_msg("'%c' at %zu accepted", bad[j], i);
		}
	memcpy(s, good, sizeof(good));
	s[5] = '\0';
	assert_false(token_wellformed(s, TOKEN_CHARS));
	memcpy(s, good, sizeof(good));
	s[5] = (char)0xc3;
	assert_false(token_wellformed(s, TOKEN_CHARS));
	/* The last character carries 2 bits of data and 4 zero bits:
	 * "Lg" ends the good token; "Lh" is not canonical. */
	memcpy(s, good, sizeof(good));
	s[21] = 'h';
	assert_false(token_wellformed(s, TOKEN_CHARS));
	s[21] = 'w';
	assert_true(token_wellformed(s, TOKEN_CHARS));
	s[21] = 'x';
	assert_false(token_wellformed(s, TOKEN_CHARS));
}

/*
 * HMAC-SHA1: RFC 2202 case 2 and the Wikipedia "quick brown fox" vector.
 * Twilio: the vector published with Twilio's algorithm (token "12345"),
 * checked with Python's hmac. JWT: a throwaway 1024-bit key made with
 * `openssl genpkey`; the expected token was signed with Python's
 * cryptography package (RS256 is deterministic).
 */
static void
test_hmac_sha1(void **state)
{
	uint8_t out[SHA1_BYTES];
	char b64[64];

	(void)state;
	crypto_hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, out);
	expect_hex(out, sizeof(out), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
	crypto_hmac_sha1("key", 3,
	    "The quick brown fox jumps over the lazy dog", 43, out);
	b64_encode(out, sizeof(out), b64);
	assert_string_equal(b64, "3nybhbi3iqa8ino29wqQcBydtNk=");
}

static void
test_b64(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(b64_encode((const uint8_t *)"", 0, out), 0);
	assert_string_equal(out, "");
	b64_encode((const uint8_t *)"f", 1, out);
	assert_string_equal(out, "Zg==");
	b64_encode((const uint8_t *)"fo", 2, out);
	assert_string_equal(out, "Zm8=");
	b64_encode((const uint8_t *)"foo", 3, out);
	assert_string_equal(out, "Zm9v");
	b64_encode((const uint8_t *)"\xfb\xff", 2, out);
	assert_string_equal(out, "+/8=");
}

static void
test_twilio_signature(void **state)
{
	/* Deliberately not in order: the function sorts. */
	const struct crypto_param p[] = {
		{ "To", "+18005551212" }, { "CallSid", "CA1234567890ABCDE" },
		{ "From", "+12349013030" }, { "Digits", "1234" },
		{ "Caller", "+12349013030" },
	};
	char sig[TWILIO_SIG_CHARS + 1];

	(void)state;
	twilio_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2",
	    p, nitems(p), sig);
	assert_string_equal(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
	/* The order of the input does not matter; p was not changed. */
	assert_string_equal(p[0].name, "To");
	twilio_signature("12346", "https://mycompany.com/myapp.php?foo=1&bar=2",
	    p, nitems(p), sig);
	assert_string_not_equal(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
}

static const char test_rsa_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAM2+P2O6Qt27qQF8\n"
    "tB4d9LhA+7oYEAGXOQZl+bmLvOrEeCTgXoHl9RmG9pyfgdQ9EWMN+wJIY3ces8Dj\n"
    "+sJ1Ac7Kw2jibG25/YizuKuN10Wv6O9uwg0+02qcznTitiPh+N7onuqA0T5Oy6V2\n"
    "ArVw/Yhj8Au/hBmVhop2WVSSQlOPAgMBAAECgYEAodblRi1eK81SRDkz9fzaY5W6\n"
    "bcg/zwCFeuL8bVfeY03otBlKPiQFiO8BTnKqTak75A87Q7BtjWY5P6IVvqELqZQc\n"
    "8QvA7BkCDzFvAq8MJVT+xd4XWhnfujjj92laZBj9q4TQNe2iERGL1O7OlOJOMry4\n"
    "MQxCf/tJL74dqdWkWgECQQD+X9czjNnSTE54NjwGrWaDn6Bt7x3OlwG21RpJ/R7K\n"
    "BVQB5jVHs8iv4AHfwgidbSBXjE7Io9tbRCwSWwUvVZD3AkEAzw7Ygz5TvI7c22Ef\n"
    "xBxDcB6WhvSpl6z5syH0CPtgXn9b2jBkMORCWuxmwIEsWGU87iSVX9EWCPPQSoBq\n"
    "drfEKQJAKMsZ6ex2qiEOnHymF7QLMqSQx9CHCTByV+3I74CmRWOhW0Sd2sfcMUhN\n"
    "RKMLWqO7gg7AO7D7ZqGCJ9ds93BTdQJAWCqYIvptKYMjo/5tSlJGnP1JV1nixQUQ\n"
    "pig1A4YWeOZ+NCAa6X6oipLTBfF68oDZOwY03MHpQhKfhLm9m6OQUQJBALHr74AU\n"
    "4tyczX2lT3GAVM+fsQSOvrSAJvOhKnmMUb9ceQjeJ+s+Gszh5Fvz6F2tzr8Lmveh\n"
    "+aa56xpcqa3ddt4=\n"
    "-----END PRIVATE KEY-----\n";

static void
test_jwt_rs256(void **state)
{
	static const char ec_pem[] =
	    "-----BEGIN PRIVATE KEY-----\n"
	    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+fWxe7RAcXPdLDSN\n"
	    "3x7in1upo559yJVuXgoG34hEIqmhRANCAAQiF1Nikhu8h0WyHVtDcGBQY9aWKVXG\n"
	    "OSfLEKbLx1HlEPl/qoKEkjHPUfp5CY9NAORsyifXlBsRn3bM9uRQd25V\n"
	    "-----END PRIVATE KEY-----\n";
	const char *claims = "{\"iss\":\"client-1\",\"sub\":\"sa@example\","
	    "\"iat\":1700000000,\"exp\":1700003600}";
	char err[128] = "";
	char *jwt;

	(void)state;
	jwt = jwt_sign_rs256(test_rsa_pem, strlen(test_rsa_pem), claims, err,
	    sizeof(err));
	assert_non_null(jwt);
	assert_string_equal(jwt,
	    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9."
	    "eyJpc3MiOiJjbGllbnQtMSIsInN1YiI6InNhQGV4YW1wbGUiLCJpYXQiOjE3MDAw"
	    "MDAwMDAsImV4cCI6MTcwMDAwMzYwMH0."
	    "eAdnsu3kpM2YBL7drkgAXpA66Mz3LSlvO92nw8bft5pQEc44eSYZvFFJduobf2-R"
	    "FPdjNf0rPOnOPGYLhteapC3ZzGJ_Me9jvxf4R1Scchzn3OapCZ1dRMH63qVMJkES"
	    "JLlk4269Dn7vDt3cSX74Nm1KHJrk2mXV4tpz7n7S6Zs");
	free(jwt);
	/* Not RSA, not a key, empty: NULL and a reason, never a crash. */
	assert_null(jwt_sign_rs256(ec_pem, strlen(ec_pem), claims, err,
	    sizeof(err)));
	assert_string_equal(err, "the private key is not an RSA key");
	err[0] = '\0';
	assert_null(jwt_sign_rs256("garbage", 7, claims, err, sizeof(err)));
	assert_true(err[0] != '\0');
	err[0] = '\0';
	assert_null(jwt_sign_rs256(test_rsa_pem, 100, claims, err,
	    sizeof(err)));
	assert_true(err[0] != '\0');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_token_derive),
		cmocka_unit_test(test_token_wellformed),
		cmocka_unit_test(test_hmac_sha1),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_twilio_signature),
		cmocka_unit_test(test_jwt_rs256),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
