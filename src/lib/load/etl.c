/* etl.c - one ETL run: the server load where the warehouse reads the sources itself
 * (load_server.c), else the direct load, whose skeleton is here: list, leave out what is loaded,
 * songs, events, dimensions, all inside one transaction (load_run.h), rolled back on any failure,
 * so a failed run leaves the warehouse exactly as it was.
 */
#include "etl.h"

#include "load_direct.h"
#include "load_server.h"
#include "source.h"
#include "transform_sql.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(SOURCE_MAX_RECORD == JSON_MAX_RECORD, "lines and objects share COPY's 4 MB limit");

static int load_jsonpaths(struct direct_run *run, char **storage, struct sp_error *err)
{
    field_spec_events(&run->event_spec);
    field_spec_songs(&run->song_spec);
    const char *path = run->core.options->log_jsonpath;
    if (!path)
        return SP_OK;
    struct buffer text;
    buffer_init(&text);
    int status =
        source_read_all(path, run->core.options->s3, JSON_PADDING, JSONPATHS_MAX, &text, err);
    if (status == SP_OK)
        status =
            field_spec_from_jsonpaths(&run->event_spec, text.data, text.len, path, storage, err);
    buffer_release(&text);
    return status;
}

static int on_any_row(void *ctx, size_t columns, const char *const *names,
                      const struct cell *values)
{
    (void)columns, (void)names, (void)values;
    *(bool *)ctx = true;
    return SP_OK;
}

/* The direct load inside the run's transaction. */
static int load_direct(struct load_run *core, void *ctx, struct sp_error *err)
{
    struct direct_run *run = ctx;
    struct warehouse *wh = core->wh;
    const struct etl_options *o = core->options;
    int status = wh->ops->create_tables(wh, false, err);
    unsigned staging = (1u << TABLE_STAGING_EVENTS) | (1u << TABLE_STAGING_SONGS);
    unsigned star = (1u << TABLE_SONGPLAYS) | (1u << TABLE_USERS) | (1u << TABLE_SONGS) |
                    (1u << TABLE_ARTISTS) | (1u << TABLE_TIME) | (1u << TABLE_SONG_LOOKUP) |
                    (1u << TABLE_USER_LATEST) | (1u << TABLE_LOADED_OBJECTS) |
                    (1u << TABLE_LOAD_ERRORS) | (1u << TABLE_ETL_RUNS);
    if (status == SP_OK && (o->full_refresh || run->stage))
        status =
            wh->ops->truncate(wh, (o->full_refresh ? star : 0) | (run->stage ? staging : 0), err);
    /* A full refresh has emptied loaded_objects: it still loads the same content only once. */
    if (status == SP_OK)
        status = load_run_plan(core, !o->full_refresh, err);
    if (status == SP_OK && core->songs.count) {
        status = load_songs(run, err);
        load_run_drop_skipped(core);
    }
    if (status == SP_OK && run->model && core->logs.count && !o->full_refresh) {
        /* Matches against the songs of earlier runs are looked up per batch, for the batch's
         * keys only. */
        bool songs_known = false;
        status =
            wh->ops->query(wh, "SELECT 1 FROM song_lookup LIMIT 1", on_any_row, &songs_known, err);
        if (songs_known)
            model_probe_warehouse(run->model);
        if (status == SP_OK) /* before this run's songplays exist */
            status = transform_fill_user_latest(wh, err);
    }
    if (status == SP_OK && core->logs.count)
        status = load_events(run, err);
    if (status == SP_OK)
        status = run->model ? load_dimensions(run, err)
                            : transform_run(wh, o, core->result->events, err);
    return status;
}

int etl_run(struct warehouse *wh, const struct etl_options *options, struct etl_result *result,
            struct sp_error *err)
{
    if (wh->ops->server_load)
        return load_server_run(wh, options, result, err);
    struct direct_run run;
    memset(&run, 0, sizeof run);
    load_run_init(&run.core, wh, options, result);
    rowbuf_init(&run.staging_songs, TABLE_STAGING_SONGS);
    char *jsonpaths[EVENT_FIELD_COUNT + 1] = {0};
    bool transform_sql = options->transform == ETL_TRANSFORM_SQL;
    run.stage = options->keep_staging || transform_sql;
    int status = SP_OK;
    if (transform_sql && !wh->ops->sql_transform)
        status = sp_usage(err,
                          "--transform sql needs a PostgreSQL or Redshift target; %s builds "
                          "the star tables in C",
                          wh->display);
    if (status == SP_OK)
        status = load_jsonpaths(&run, jsonpaths, err);
    if (status == SP_OK)
        status = load_run_list(&run.core, err);
    if (status == SP_OK) {
        if (!transform_sql)
            run.model = model_new();
        status = load_run_transaction(&run.core, load_direct, &run, err);
        model_free(run.model);
    }
    for (size_t i = 0; i < EVENT_FIELD_COUNT + 1; i++)
        free(jsonpaths[i]);
    rowbuf_release(&run.staging_songs);
    load_run_release(&run.core);
    return status;
}
