/*
 * fuzz-keys.c: libFuzzer harness for the headless explorer's key-script
 * reader (keys.c, keys_script_parse): the input as a script, every step
 * read back, key names formatted. Never prints.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct keyscript *ks;
	struct keys_step st;
	struct err e;
	char name[64], *text;
	size_t sum = 0;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if ((ks = keys_script_parse(text, "fuzz.keys", &e)) != NULL) {
		while (keys_script_next(ks, &st) == 1) {
			if (st.kind == STEP_KEY)
				sum += strlen(keys_name(st.key, name,
				    sizeof(name)));
			sum += strnlen(st.label, sizeof(st.label));
		}
		keys_script_free(ks);
	}
	free(text);
	return (int)(sum & 0);
}
