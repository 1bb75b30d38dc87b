/*
 * crypto.h: randomness, hashing and the link tokens, over OpenSSL libcrypto.
 *
 * Link tokens are 128 bits, base64url without padding (22 characters).
 * They are derived as HMAC-SHA256(key, purpose ":" salt) truncated to 16
 * bytes, where key is the site's secret (state_dir/token.key, never in the
 * database) and salt is 16 bytes from the CSPRNG stored beside the delivery.
 * The database keeps only SHA-256(token), so a copy of state.db alone lets
 * nobody approve or confirm anything, yet the daemon can rebuild a link after
 * a restart to send it again.
 */
#ifndef CRISISCAST_CRYPTO_H
#define CRISISCAST_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_BYTES	16
#define TOKEN_CHARS	22	/* base64url of 16 bytes, no padding */
#define SALT_BYTES	16
#define SHA256_BYTES	32
#define TOKEN_KEY_BYTES	32

/* Fills p with n bytes from the CSPRNG. Returns 0, or -1 if it failed. */
int crypto_random(void *p, size_t n);
void crypto_sha256(const void *p, size_t n, uint8_t out[SHA256_BYTES]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *p,
    size_t n, uint8_t out[SHA256_BYTES]);
/* Constant-time comparison of n bytes. */
bool crypto_equal(const void *a, const void *b, size_t n);

/* base64url without padding; out must hold 4*ceil(n/3)+1. Returns length. */
size_t b64url_encode(const uint8_t *p, size_t n, char *out);
/* Decodes exactly; -1 on any character outside the alphabet or bad length. */
int b64url_decode(const char *s, size_t len, uint8_t *out, size_t outsz,
    size_t *outlen);

/* Derives the token text (TOKEN_CHARS + NUL) for purpose and salt. */
void token_derive(const uint8_t key[TOKEN_KEY_BYTES], const char *purpose,
    const uint8_t salt[SALT_BYTES], char out[TOKEN_CHARS + 1]);
/* SHA-256 of a token's text, as stored. */
void token_hash(const char *token, uint8_t out[SHA256_BYTES]);
/* true when s has the exact shape of a token (length and alphabet). */
bool token_wellformed(const char *s, size_t len);

/* Lowercase hex of n bytes into out (2n+1). */
void hex_encode(const uint8_t *p, size_t n, char *out);

/* HMAC-SHA1 (Twilio's request signatures). */
#define SHA1_BYTES	20
void crypto_hmac_sha1(const void *key, size_t keylen, const void *p,
    size_t n, uint8_t out[SHA1_BYTES]);

/* Standard base64 with padding (RFC 4648 section 4); out must hold
 * 4*ceil(n/3)+1. Returns the length written (without the NUL). */
size_t b64_encode(const uint8_t *p, size_t n, char *out);

/*
 * A JSON Web Token signed with RS256 (RFC 7515, 7518):
 * b64url(header) "." b64url(claims) "." b64url(RSASSA-PKCS1-v1_5 SHA-256
 * signature), header {"alg":"RS256","typ":"JWT"}, no padding anywhere.
 * pem: an RSA private key in PEM (PKCS#8 "BEGIN PRIVATE KEY", or the
 * traditional RSA form). claims: the JSON object text, signed verbatim.
 * Returns a new string (caller frees), or NULL with err filled.
 */
char *jwt_sign_rs256(const char *pem, size_t pemlen, const char *claims,
    char *err, size_t errsz);

/*
 * Twilio's X-Twilio-Signature for a form POST: base64(HMAC-SHA1(auth token,
 * url || name1 value1 || name2 value2 ...)) with the parameters sorted by
 * name, then value, in byte order (Twilio's "Unix-style case-sensitive"
 * sort). url is the full URL Twilio was given, query included. params is
 * not modified. out holds 28 characters and a NUL.
 */
#define TWILIO_SIG_CHARS	28
struct crypto_param {
	const char *name, *value;
};
void twilio_signature(const char *auth_token, const char *url,
    const struct crypto_param *params, size_t n,
    char out[TWILIO_SIG_CHARS + 1]);

#endif
