/* aws_query.h - AWS's Query protocol (IAM, STS, EC2, Redshift) through libcurl and libxml2.
 *
 * A request is a form-encoded POST of Action, Version and the action's parameters ("Query
 * requests", https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html; the
 * common parameters, https://docs.aws.amazon.com/STS/latest/APIReference/CommonParameters.html),
 * signed with Signature Version 4 by libcurl (CURLOPT_AWS_SIGV4) for the service and region
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html);
 * IAM is global and signed for us-east-1. Endpoints follow the AWS SDKs' convention
 * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html):
 * AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then AWS's own.
 *
 * Answers are XML, read with libxml2. Each service and API version has its own namespace and
 * EC2's errors have none, so the namespaces are dropped after parsing and callers select nodes
 * with plain XPath ("//Cluster/Endpoint/Address"). An error answer becomes "DOING: Code:
 * Message", and AWS's code is kept for the caller, for whom NoSuchEntity or ClusterNotFound often
 * means "already done". Throttling, transient errors, 5xx and dropped connections are retried
 * with exponential backoff and full jitter. The secret key, and any secret a caller registers
 * (a database password), is replaced by *** in every message.
 */
#ifndef SPARKIFY_AWS_QUERY_H
#define SPARKIFY_AWS_QUERY_H

#include "error.h"

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

enum aws_service { AWS_IAM, AWS_STS, AWS_EC2, AWS_REDSHIFT };
#define AWS_SERVICES 4

/* "iam", "sts", "ec2", "redshift": the signing name. */
const char *aws_service_name(enum aws_service service);

struct aws_config {
    const char *region; /* of STS, EC2 and Redshift; NULL: us-west-2 */
    const char *access_key, *secret_key, *session_token;
    int max_attempts; /* per request; 0: 6 */
};

struct aws_client;

/* Resolves each service's endpoint from the environment (see above). */
int aws_client_new(const struct aws_config *config, struct aws_client **out, struct sp_error *err);
void aws_client_free(struct aws_client *c);

/* `secret` (copied) is masked in every message from now on. */
void aws_client_add_secret(struct aws_client *c, const char *secret);

/* The endpoint a service's requests go to ("https://iam.amazonaws.com"). */
const char *aws_client_endpoint(const struct aws_client *c, enum aws_service service);
const char *aws_client_region(const struct aws_client *c);

/* A dry run: actions that change something (all but Describe*, Get* and List*) are handed to
 * `show` instead of being sent, and succeed with no answer; the others are still sent, so that
 * what is shown is what a run would do. */
struct aws_params;
typedef void (*aws_show_fn)(void *ctx, enum aws_service service, const char *action,
                            const struct aws_params *params);
void aws_client_dry_run(struct aws_client *c, aws_show_fn show, void *ctx);
bool aws_client_is_dry_run(const struct aws_client *c);

/* An action's parameters, in order. A secret's value is shown as *** and wiped on release. */
struct aws_param {
    char *name, *value;
    bool secret;
};
struct aws_params {
    struct aws_param *items;
    size_t count, cap;
};
void aws_params_init(struct aws_params *p);
void aws_params_release(struct aws_params *p);
void aws_params_add(struct aws_params *p, const char *name, const char *value);
void aws_params_add_secret(struct aws_params *p, const char *name, const char *value);
/* A value formatted with printf. */
void aws_params_addf(struct aws_params *p, const char *name, const char *fmt, ...) SP_PRINTF(3, 4);

/* An answer: its document (namespaces dropped) or, when AWS refused, its error code. */
struct aws_answer {
    xmlDocPtr doc;    /* NULL on any failure, and for a change skipped by a dry run */
    char code[128];   /* AWS's error code ("NoSuchEntity"), or "" */
    long http_status; /* 0 when no answer came */
};
void aws_answer_release(struct aws_answer *a);

/* Sends `action` with `params` to `service`. On failure `err` says "DOING: Code: Message (HTTP
 * N)" (or the transport's error), `doing` being what the caller was about ("creating the IAM
 * role r"), and answer->code holds AWS's code. Retries what is transient. */
int aws_call(struct aws_client *c, enum aws_service service, const char *action,
             const struct aws_params *params, struct aws_answer *answer, struct sp_error *err,
             const char *doing, ...) SP_PRINTF(7, 8);

/* Whether AWS's code says the credentials were refused (a wrong key or secret, an expired
 * token). */
bool aws_code_is_credentials(const char *code);

/* The text of the first node `xpath` selects, from `node` (NULL: the document), malloc'd; NULL
 * when it selects nothing. */
char *aws_xml_text(xmlDocPtr doc, xmlNodePtr node, const char *xpath);
/* The nodes `xpath` selects, in document order, into *nodes (malloc'd; free it); the count. */
size_t aws_xml_nodes(xmlDocPtr doc, xmlNodePtr node, const char *xpath, xmlNodePtr **nodes);

/* The region of the usual AWS settings: AWS_REGION, AWS_DEFAULT_REGION, then `region` in the
 * shared config file ($AWS_CONFIG_FILE or ~/.aws/config) for $AWS_PROFILE ("[default]" or
 * "[profile NAME]"); "" when none says. */
int aws_default_region(char *out, size_t size, struct sp_error *err);

#endif
