/*
 * fuzz_proto: arbitrary bytes as a control-socket stream: proto_parse over
 * it frame by frame (as control.c drains its input), proto_check_request on
 * each decoded object, and proto_frame of what was decoded (it must parse
 * back to one frame of the same length).
 *
 * Contract: proto_parse never reads past len, a frame it returns lies
 * within len, and it makes progress or asks for more.
 */
#include "fuzz.h"

#include <cjson/cJSON.h>

#include "proto.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		size_t framelen = 0;
		cJSON *obj = NULL;
		char err[256];
		const char *cmd, *as;
		const cJSON *args;
		int rc;

		/* an exact-size copy, so ASan sees any overread */
		uint8_t *p = malloc(size - off);
		if (p == NULL)
			abort();
		memcpy(p, data + off, size - off);
		rc = proto_parse(p, size - off, &framelen, &obj, err,
		    sizeof(err));
		free(p);
		if (rc != 1) {
			if (obj != NULL)
				abort();
			break;
		}
		if (framelen == 0 || framelen > size - off || obj == NULL)
			abort();
		off += framelen;
		(void)proto_check_request(obj, &cmd, &as, &args, err,
		    sizeof(err));
		{
			struct buf out = {0};
			if (proto_frame(obj, &out) == 0) {
				cJSON *back = NULL;
				size_t fl = 0;
				if (proto_parse((const uint8_t *)out.data,
				    out.len, &fl, &back, err, sizeof(err)) != 1 ||
				    fl != out.len)
					abort();
				cJSON_Delete(back);
			}
			buf_free(&out);
		}
		cJSON_Delete(obj);
	}
	return 0;
}
