/*
 * crypto.c: thin, checked wrappers over libcrypto. Pure: never logs.
 */
#include "crypto.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * The kernel's CSPRNG, not RAND_bytes(): the first RAND_bytes() sets up
 * OpenSSL's providers and DRBGs, about 2 MB of libcrypto resident for
 * good, in a daemon that may not otherwise need libcrypto before its first
 * link token or TLS connection. getrandom() blocks only until the kernel
 * pool is seeded.
 */
int
crypto_random(void *p, size_t n)
{
	uint8_t *o = p;

	while (n > 0) {
		ssize_t got = getrandom(o, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		o += got;
		n -= (size_t)got;
	}
	return 0;
}

void
crypto_sha256(const void *p, size_t n, uint8_t out[SHA256_BYTES])
{
	unsigned int len = SHA256_BYTES;
	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void
crypto_hmac_sha256(const void *key, size_t keylen, const void *p, size_t n,
    uint8_t out[SHA256_BYTES])
{
	unsigned int len = SHA256_BYTES;
	HMAC(EVP_sha256(), key, (int)keylen, p, n, out, &len);
}

bool
crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

size_t
b64url_encode(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int
b64url_value(char c)
{
	const char *p = c ? strchr(b64url, c) : NULL;
	return p ? (int)(p - b64url) : -1;
}

int
b64url_decode(const char *s, size_t len, uint8_t *out, size_t outsz,
    size_t *outlen)
{
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value(s[i]);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outsz)
				return -1;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Leftover bits must be zero, or the encoding is not canonical. */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		return -1;
	*outlen = o;
	return 0;
}

void
token_derive(const uint8_t key[TOKEN_KEY_BYTES], const char *purpose,
    const uint8_t salt[SALT_BYTES], char out[TOKEN_CHARS + 1])
{
	uint8_t msg[64 + SALT_BYTES], mac[SHA256_BYTES];
	size_t plen = strlen(purpose);

	if (plen > 63)
		plen = 63;
	memcpy(msg, purpose, plen);
	msg[plen] = ':';
	memcpy(msg + plen + 1, salt, SALT_BYTES);
	crypto_hmac_sha256(key, TOKEN_KEY_BYTES, msg, plen + 1 + SALT_BYTES, mac);
	b64url_encode(mac, TOKEN_BYTES, out);
}

void
token_hash(const char *token, uint8_t out[SHA256_BYTES])
{
	crypto_sha256(token, strlen(token), out);
}

bool
token_wellformed(const char *s, size_t len)
{
	uint8_t raw[TOKEN_BYTES + 2];
	size_t n;

	if (len != TOKEN_CHARS)
		return false;
	return b64url_decode(s, len, raw, sizeof(raw), &n) == 0 &&
	    n == TOKEN_BYTES;
}

void
hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void
crypto_hmac_sha1(const void *key, size_t keylen, const void *p, size_t n,
    uint8_t out[SHA1_BYTES])
{
	unsigned int len = SHA1_BYTES;
	HMAC(EVP_sha1(), key, (int)keylen, p, n, out, &len);
}

size_t
b64_encode(const uint8_t *p, size_t n, char *out)
{
	size_t o = b64url_encode(p, n, out);

	for (size_t i = 0; i < o; i++) {
		if (out[i] == '-')
			out[i] = '+';
		else if (out[i] == '_')
			out[i] = '/';
	}
	while (o % 4 != 0)
		out[o++] = '=';
	out[o] = '\0';
	return o;
}

static void
b64url_append(struct buf *b, const void *p, size_t n)
{
	char *tmp = xmalloc(4 * (n / 3 + 1) + 1);
	size_t len = b64url_encode(p, n, tmp);

	buf_add(b, tmp, len);
	free(tmp);
}

char *
jwt_sign_rs256(const char *pem, size_t pemlen, const char *claims,
    char *err, size_t errsz)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *ctx = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	struct buf b = {0};
	char *out = NULL;

	if (pemlen > INT32_MAX ||
	    (bio = BIO_new_mem_buf(pem, (int)pemlen)) == NULL) {
		snprintf(err, errsz, "cannot read the private key");
		goto done;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (key == NULL) {
		snprintf(err, errsz, "the private key is not a PEM private key");
		goto done;
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		snprintf(err, errsz, "the private key is not an RSA key");
		goto done;
	}
	b64url_append(&b, header, sizeof(header) - 1);
	buf_addc(&b, '.');
	b64url_append(&b, claims, strlen(claims));
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)b.data,
	    b.len) != 1) {
		snprintf(err, errsz, "RS256 signing failed");
		goto done;
	}
	sig = xmalloc(siglen);
	if (EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)b.data,
	    b.len) != 1) {
		snprintf(err, errsz, "RS256 signing failed");
		goto done;
	}
	buf_addc(&b, '.');
	b64url_append(&b, sig, siglen);
	out = buf_take(&b);
done:
	buf_free(&b);
	free(sig);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(key);
	BIO_free(bio);
	return out;
}

static int
param_cmp(const void *a, const void *b)
{
	const struct crypto_param *x = *(const struct crypto_param *const *)a;
	const struct crypto_param *y = *(const struct crypto_param *const *)b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

void
twilio_signature(const char *auth_token, const char *url,
    const struct crypto_param *params, size_t n,
    char out[TWILIO_SIG_CHARS + 1])
{
	const struct crypto_param **v = xcalloc(n + 1, sizeof(*v));
	struct buf b = {0};
	uint8_t mac[SHA1_BYTES];

	for (size_t i = 0; i < n; i++)
		v[i] = &params[i];
	qsort(v, n, sizeof(*v), param_cmp);
	buf_adds(&b, url);
	for (size_t i = 0; i < n; i++) {
		buf_adds(&b, v[i]->name);
		buf_adds(&b, v[i]->value);
	}
	crypto_hmac_sha1(auth_token, strlen(auth_token), b.data ? b.data : "",
	    b.len, mac);
	b64_encode(mac, sizeof(mac), out);
	buf_free(&b);
	free(v);
}
