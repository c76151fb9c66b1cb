/* Uploads the JSON files under a directory to s3://BUCKET/PREFIX through the library's uploader
 * (upload.h), the code `sparkify etl` runs for local sources on the Redshift path: one object per
 * file (PREFIX/NNNNN-name, as a run names log files), read once, then sent up to --concurrency at
 * once, in parts above --part-size MiB. Prints one JSON line: objects, bytes, and the seconds of
 * the read pass and of the sending, for bench/bench.py. The endpoint and credentials come from
 * AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
 *
 * usage: upload_files [--concurrency N] [--part-size MIB] DIR s3://BUCKET/PREFIX
 */
#include "s3.h"
#include "source.h"
#include "upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void must(int status, const struct sp_error *err)
{
    if (status != SP_OK) {
        fprintf(stderr, "upload_files: %s\n", err->message);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    struct s3_config config = {.path_style = -1, .sign = true};
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--concurrency") == 0)
            config.concurrency = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--part-size") == 0)
            config.part_size = (uint64_t)atoll(argv[i + 1]) << 20;
        else
            break;
    }
    if (argc - i != 2) {
        fprintf(stderr,
                "usage: upload_files [--concurrency N] [--part-size MIB] DIR s3://BUCKET/PREFIX\n");
        return 2;
    }
    const char *dir = argv[i], *prefix = argv[i + 1];
    config.endpoint = getenv("AWS_ENDPOINT_URL");
    config.region = getenv("AWS_REGION");
    config.access_key = getenv("AWS_ACCESS_KEY_ID");
    config.secret_key = getenv("AWS_SECRET_ACCESS_KEY");
    struct sp_error err;
    sp_error_clear(&err);
    struct s3_client *s3;
    must(s3_client_new(&config, &s3, &err), &err);
    struct source_list files;
    source_list_init(&files);
    must(source_list_objects(dir, NULL, &files, &err), &err);

    double started = now();
    struct upload_batch *batch = upload_batch_new(s3_part_size(s3));
    struct buffer url;
    buffer_init(&url);
    uint64_t bytes = 0;
    for (size_t f = 0; f < files.count; f++) {
        const char *key = files.items[f].key;
        const char *name = strrchr(key, '/');
        buffer_clear(&url);
        buffer_printf(&url, "%s/%05zu-%s", prefix, f + 1, name ? name + 1 : key);
        upload_batch_begin(batch, url.data);
        struct upload_added added;
        must(upload_batch_add(batch, &files.items[f], UPLOAD_ALL, false, &added, &err), &err);
        bytes += added.bytes;
    }
    double read = now();
    must(upload_batch_send(batch, s3, NULL, NULL, &err), &err);
    double sent = now();
    printf("{\"objects\": %zu, \"bytes\": %llu, \"read_seconds\": %.3f, \"send_seconds\": %.3f}\n",
           files.count, (unsigned long long)bytes, read - started, sent - read);
    upload_batch_free(batch);
    buffer_release(&url);
    source_list_release(&files);
    s3_client_free(s3);
    return 0;
}
