/*
 * rss_floor.c: the resident set of loading crisiscastd's shared libraries
 * and nothing else, for bench/idle.sh. Linked like crisiscastd (the same
 * pkg-config libraries, --as-needed); one reference to each library keeps
 * it in the link, and none of them is called. Loaded as crisiscastd loads
 * them: GnuTLS's implicit initialization skipped (daemon/http_client.c).
 * Waits for a signal.
 */
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sqlite3.h>
#include <yaml.h>

void *volatile rss_floor_keep[] = {
	(void *)cJSON_Parse, (void *)curl_easy_init,
	(void *)bufferevent_openssl_socket_new, (void *)event_base_new,
	(void *)evhttp_new, (void *)EVP_sha256, (void *)SSL_CTX_new,
	(void *)pcre2_compile, (void *)sqlite3_open_v2,
	(void *)yaml_parser_initialize,
};

int _gnutls_global_init_skip(void);

int
_gnutls_global_init_skip(void)
{
	return 1;
}

int
main(void)
{
	pause();
	return 0;
}
