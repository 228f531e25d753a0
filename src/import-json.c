/*
 * import-json.c: JSON Lines records. Each line is one JSON object; its
 * keys are columns (registered as they appear), its values become field
 * text: strings as they are, numbers printed exactly, booleans as
 * true/false, null as missing, objects and arrays as compact JSON.
 */
#include "config.h"
#include "import-int.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static void
json_value(struct reader *r, size_t i, const cJSON *v)
{
	char num[40];
	char *txt;

	if (cJSON_IsString(v)) {
		reader_setfield(r, i, v->valuestring, strlen(v->valuestring));
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;

		if (d == floor(d) && fabs(d) < 9.007199254740992e15)
			snprintf(num, sizeof(num), "%.0f", d);
		else {
			int prec = 15;

			/* the fewest digits that read back as d: 19.99 */
			do
				snprintf(num, sizeof(num), "%.*g", prec, d);
			while (strtod(num, NULL) != d && ++prec <= 17);
		}
		reader_setfield(r, i, num, strlen(num));
	} else if (cJSON_IsBool(v)) {
		const char *b = cJSON_IsTrue(v) ? "true" : "false";

		reader_setfield(r, i, b, strlen(b));
	} else if (cJSON_IsNull(v)) {
		reader_setfield(r, i, NULL, 0);
	} else if ((txt = cJSON_PrintUnformatted(v)) != NULL) {
		reader_setfield(r, i, txt, strlen(txt));
		cJSON_free(txt);
	}
}

/* Parse the current line; 1 record, 0 blank line, -1 bad record. */
int
json_record(struct reader *r, struct err *e)
{
	const char *p = r->buf + r->rstart;
	size_t n = r->raw_end - r->rstart, k;
	const cJSON *it;
	cJSON *root;

	for (k = 0; k < n && (p[k] == ' ' || p[k] == '\t'); k++)
		;
	if (k == n)
		return 0;
	root = cJSON_ParseWithLength(p, n);
	if (root == NULL)
		return err_set(e, ERR_PARSE, "%s:%lld: not valid JSON",
		    r->name, (long long)r->rec_line);
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return err_set(e, ERR_PARSE, "%s:%lld: a JSON line must hold "
		    "an object", r->name, (long long)r->rec_line);
	}
	reader_clear(r, r->ncols);
	cJSON_ArrayForEach(it, root) {
		if (it->string == NULL)
			continue;
		json_value(r, reader_addcol(r, it->string,
		    strlen(it->string)), it);
	}
	r->width = r->nf;
	cJSON_Delete(root);
	return 1;
}
