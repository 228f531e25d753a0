/*
 * fuzz-model.c: libFuzzer harness for the model file reader (nn-io.c,
 * nn_model_read_mem). A file it accepts is written back and must read
 * again. Never prints.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "nn.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nn_model *m, *m2;
	struct err e;
	void *img;
	size_t len;

	if ((m = nn_model_read_mem(data, size, "fuzz.safetensors",
	    &e)) == NULL)
		return 0;
	if (nn_model_write_mem(m, NULL, &img, &len, &e) == 0) {
		if ((m2 = nn_model_read_mem(img, len, "again", &e)) == NULL)
			abort();	/* what we write we must read */
		nn_model_free(m2);
		free(img);
	}
	nn_model_free(m);
	return 0;
}
