/* classify: the libgnrt C API in one page. Loads a model, plans it at the model's default input
 * size, reads a binary PGM/PPM image (P5/P6, maxval <= 255), runs, prints the top-5 classes.
 *
 *   classify MODEL.gnrt IMAGE.pgm
 *
 * Output: one line per class, "rank score class label", best first. The score is whatever the
 * model outputs (probabilities for models that end in a softmax, as gnrt files usually do).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "gnrt/gnrt.h"

#define MAX_SIDE 16384

/* Reads one header number, skipping whitespace and '#' comments. Returns -1 on error. */
static long read_header_number(FILE* f) {
  int c = fgetc(f);
  for (;;) {
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = fgetc(f);
    if (c != '#') break;
    while (c != '\n' && c != EOF) c = fgetc(f);
  }
  if (c < '0' || c > '9') return -1;
  long value = 0;
  while (c >= '0' && c <= '9') {
    value = value * 10 + (c - '0');
    if (value > 1000000) return -1;
    c = fgetc(f);
  }
  /* c is the single whitespace byte after the number (before binary data it must be exactly
   * one), so it is consumed here. */
  if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return -1;
  return value;
}

/* Binary PGM (P5) or PPM (P6), 8-bit. Returns malloc'ed height*width*channels pixels or NULL. */
static uint8_t* read_pnm(const char* path, int* height, int* width, int* channels) {
  FILE* f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "classify: cannot open %s\n", path);
    return NULL;
  }
  uint8_t* pixels = NULL;
  int c0 = fgetc(f), c1 = fgetc(f);
  if (c0 != 'P' || (c1 != '5' && c1 != '6')) {
    fprintf(stderr, "classify: %s: not a binary PGM/PPM (P5/P6) image\n", path);
    goto done;
  }
  long w = read_header_number(f), h = read_header_number(f), maxval = read_header_number(f);
  if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE || maxval < 1 || maxval > 255) {
    fprintf(stderr, "classify: %s: unsupported or bad header (need 8-bit, sides 1..%d)\n", path,
            MAX_SIDE);
    goto done;
  }
  *channels = c1 == '5' ? 1 : 3;
  *height = (int)h;
  *width = (int)w;
  size_t count = (size_t)h * (size_t)w * (size_t)*channels;
  pixels = (uint8_t*)malloc(count);
  if (!pixels || fread(pixels, 1, count, f) != count) {
    fprintf(stderr, "classify: %s: truncated pixel data\n", path);
    free(pixels);
    pixels = NULL;
    goto done;
  }
  if (maxval != 255) {
    for (size_t i = 0; i < count; ++i) {
      pixels[i] = (uint8_t)((pixels[i] > maxval ? maxval : pixels[i]) * 255 / maxval);
    }
  }
done:
  fclose(f);
  return pixels;
}

static int fail(const char* what, gnrt_status status) {
  fprintf(stderr, "classify: %s: %s: %s\n", what, gnrt_status_string(status), gnrt_last_error());
  return 1;
}

/* Index of the best unused score; NaN scores rank last. */
static size_t best_unused(const float* scores, const char* used, size_t count) {
  size_t best = count;
  for (size_t i = 0; i < count; ++i) {
    if (used[i]) continue;
    if (best == count || scores[best] != scores[best] || scores[i] > scores[best]) best = i;
  }
  return best;
}

int main(int argc, char** argv) {
  int exit_code = 1;
  gnrt_model* model = NULL;
  gnrt_plan* plan = NULL;
  uint8_t* pixels = NULL;
  float* scores = NULL;
  char* used = NULL;
  int height = 0, width = 0, channels = 0, dims[4];
  size_t count = 0;
  gnrt_status status;

  if (argc != 3) {
    fprintf(stderr, "usage: classify MODEL.gnrt IMAGE.pgm|IMAGE.ppm\n");
    return 2;
  }
  if ((status = gnrt_model_load_file(argv[1], &model)) != GNRT_OK) {
    exit_code = fail("loading the model", status);
    goto cleanup;
  }
  /* NULL options: one thread, the model's default input size. */
  if ((status = gnrt_plan_create(model, NULL, &plan)) != GNRT_OK) {
    exit_code = fail("planning", status);
    goto cleanup;
  }
  pixels = read_pnm(argv[2], &height, &width, &channels);
  if (!pixels) goto cleanup;
  /* Resizes, converts gray <-> RGB and normalizes as the model asks. */
  if ((status = gnrt_plan_set_input_image_u8(plan, pixels, height, width, channels)) != GNRT_OK) {
    exit_code = fail("setting the input", status);
    goto cleanup;
  }
  if ((status = gnrt_plan_run(plan)) != GNRT_OK) {
    exit_code = fail("running", status);
    goto cleanup;
  }
  if ((status = gnrt_plan_output_shape(plan, dims)) != GNRT_OK) {
    exit_code = fail("reading the output shape", status);
    goto cleanup;
  }
  count = (size_t)dims[0] * (size_t)dims[1] * (size_t)dims[2] * (size_t)dims[3];
  scores = (float*)malloc(count * sizeof(float));
  used = (char*)calloc(count, 1);
  if (!scores || !used) {
    fprintf(stderr, "classify: out of memory\n");
    goto cleanup;
  }
  if ((status = gnrt_plan_get_output(plan, scores, count)) != GNRT_OK) {
    exit_code = fail("reading the output", status);
    goto cleanup;
  }
  for (int rank = 1; rank <= 5 && (size_t)rank <= count; ++rank) {
    size_t best = best_unused(scores, used, count);
    const char* label = gnrt_model_label(model, (int)best);
    used[best] = 1;
    printf("%d %.4f %zu %s\n", rank, scores[best], best, label ? label : "-");
  }
  exit_code = 0;

cleanup:
  free(used);
  free(scores);
  free(pixels);
  gnrt_plan_destroy(plan); /* plans before their model */
  gnrt_model_destroy(model);
  return exit_code;
}
