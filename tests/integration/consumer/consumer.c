/* Downstream consumer of an installed libgnrt: loads a model, runs it on a constant image and
 * prints the version, the output size and the arg-max class. */
#include <gnrt/gnrt.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: consumer MODEL.gnrt\n");
    return 2;
  }
  gnrt_model* model = NULL;
  if (gnrt_model_load_file(argv[1], &model) != GNRT_OK) {
    fprintf(stderr, "consumer: %s\n", gnrt_last_error());
    return 1;
  }
  gnrt_plan* plan = NULL;
  if (gnrt_plan_create(model, NULL, &plan) != GNRT_OK) {
    fprintf(stderr, "consumer: %s\n", gnrt_last_error());
    gnrt_model_destroy(model);
    return 1;
  }
  int in[4], out[4];
  gnrt_plan_input_shape(plan, in);
  gnrt_plan_output_shape(plan, out);
  const size_t in_count = (size_t)in[1] * in[2] * in[3];
  const size_t out_count = (size_t)out[1] * out[2] * out[3];
  float* input = malloc(in_count * sizeof(float));
  float* output = malloc(out_count * sizeof(float));
  for (size_t i = 0; i < in_count; ++i) input[i] = (float)(i % 17) / 17.0f;
  int rc = 1;
  if (gnrt_plan_set_input(plan, input, in_count) == GNRT_OK && gnrt_plan_run(plan) == GNRT_OK &&
      gnrt_plan_get_output(plan, output, out_count) == GNRT_OK) {
    size_t best = 0;
    for (size_t i = 1; i < out_count; ++i)
      if (output[i] > output[best]) best = i;
    printf("gnrt %s outputs=%zu argmax=%zu\n", gnrt_version(), out_count, best);
    rc = 0;
  } else {
    fprintf(stderr, "consumer: %s\n", gnrt_last_error());
  }
  free(input);
  free(output);
  gnrt_plan_destroy(plan);
  gnrt_model_destroy(model);
  return rc;
}
