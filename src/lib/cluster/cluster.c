/* cluster.c - creating, describing and deleting the cluster, its role and its ingress rule
 * (see cluster.h) with IAM, STS, EC2 and Redshift's Query APIs (aws_query.c).
 *
 * The pages followed: IAM CreateRole, PutRolePolicy, AttachRolePolicy
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html), EC2
 * AuthorizeSecurityGroupIngress and RevokeSecurityGroupIngress
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AuthorizeSecurityGroupIngress.html),
 * Redshift CreateCluster, DescribeClusters, DeleteCluster, ModifyClusterIamRoles
 * (https://docs.aws.amazon.com/redshift/latest/APIReference/API_CreateCluster.html).
 *
 * The cluster goes into the default VPC with its default security group named explicitly
 * (VpcSecurityGroupIds), which is what AWS picks when none is named; the ingress rule goes
 * into that group. Waiting polls DescribeClusters, first after `poll_interval`, doubling up to
 * 30 s, never past the timeout. A cluster that is paused, failed or being deleted will not
 * become available by waiting, so that ends the wait at once.
 */
#include "cluster.h"

#include "buffer.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_POLL 30.0

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static void notice(const struct cluster_hooks *h, const char *fmt, ...) SP_PRINTF(2, 3);

static void notice(const struct cluster_hooks *h, const char *fmt, ...)
{
    if (!h->notice)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    h->notice(h->ctx, text);
}

static bool code_is(const struct aws_answer *a, const char *code)
{
    return strcmp(a->code, code) == 0;
}

/* An error whose AWS code says the thing is absent, where absent is what the caller wants (a
 * role to create, a rule already revoked): SP_OK and no error; any other status as it is. */
static int forgive(int status, const struct aws_answer *a, const char *code, struct sp_error *err)
{
    if (status != SP_OK && code_is(a, code)) {
        sp_error_clear(err);
        return SP_OK;
    }
    return status;
}

static int xml_int(xmlDocPtr doc, xmlNodePtr node, const char *xpath, int fallback)
{
    char *text = aws_xml_text(doc, node, xpath);
    int v = text && *text ? atoi(text) : fallback;
    free(text);
    return v;
}

static bool xml_true(xmlDocPtr doc, xmlNodePtr node, const char *xpath)
{
    char *text = aws_xml_text(doc, node, xpath);
    bool v = text && strcmp(text, "true") == 0;
    free(text);
    return v;
}

/* A policy document as IAM returns it (URL-encoded JSON), decoded. */
static char *url_decoded(const char *text)
{
    if (!text)
        return NULL;
    int len = 0;
    char *raw = curl_easy_unescape(NULL, text, 0, &len);
    char *copy = raw ? xstrndup(raw, (size_t)len) : NULL;
    curl_free(raw);
    return copy;
}

/* ---- who ---- */

void cluster_caller_release(struct cluster_caller *c)
{
    free(c->account);
    free(c->arn);
    free(c->partition);
    memset(c, 0, sizeof *c);
}

int cluster_caller_identity(struct aws_client *aws, const struct cluster_hooks *h,
                            struct cluster_caller *out, struct sp_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_answer a;
    const char *from = h->credentials_from;
    int status = aws_call(aws, AWS_STS, "GetCallerIdentity", NULL, &a, err,
                          "checking the AWS credentials%s%s with STS GetCallerIdentity",
                          from ? " from " : "", from ? from : "");
    if (status == SP_OK) {
        out->account = aws_xml_text(a.doc, NULL, "//GetCallerIdentityResult/Account");
        out->arn = aws_xml_text(a.doc, NULL, "//GetCallerIdentityResult/Arn");
        if (!out->account || !out->arn)
            status = sp_fail(err, "STS GetCallerIdentity answered without an account and ARN");
    }
    if (status == SP_OK) {
        /* arn:PARTITION:iam::ACCOUNT:... */
        const char *p = strncmp(out->arn, "arn:", 4) == 0 ? out->arn + 4 : "aws";
        size_t n = strcspn(p, ":");
        out->partition = n ? xstrndup(p, n) : xstrdup("aws");
    }
    aws_answer_release(&a);
    return status;
}

/* ---- describing ---- */

void cluster_info_release(struct cluster_info *i)
{
    char **fields[] = {&i->identifier, &i->status,      &i->address, &i->node_type,
                       &i->db_name,    &i->master_user, &i->vpc_id};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
        free(*fields[k]);
    for (size_t k = 0; k < i->role_count; k++) {
        free(i->roles[k].arn);
        free(i->roles[k].status);
    }
    free(i->roles);
    for (size_t k = 0; k < i->group_count; k++)
        free(i->groups[k]);
    free(i->groups);
    for (size_t k = 0; k < i->rule_count; k++) {
        free(i->rules[k].group_id);
        free(i->rules[k].protocol);
        free(i->rules[k].cidr);
        free(i->rules[k].description);
    }
    free(i->rules);
    memset(i, 0, sizeof *i);
}

/* The IPv4 ingress rules of `groups` that let TCP reach `port` (all rules when port is 0). */

static void free_rules(struct cluster_rule *rules, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(rules[i].group_id);
        free(rules[i].protocol);
        free(rules[i].cidr);
        free(rules[i].description);
    }
    free(rules);
}
static int read_rules(struct aws_client *aws, char **groups, size_t group_count, int port,
                      struct cluster_rule **rules, size_t *rule_count, struct sp_error *err)
{
    *rules = NULL;
    *rule_count = 0;
    if (!group_count)
        return SP_OK;
    struct aws_params p;
    aws_params_init(&p);
    for (size_t g = 0; g < group_count; g++) {
        char name[32]; /* EC2 numbers list members after the name: GroupId.1, GroupId.2 */
        snprintf(name, sizeof name, "GroupId.%zu", g + 1);
        aws_params_add(&p, name, groups[g]);
    }
    struct aws_answer a;
    int status = aws_call(aws, AWS_EC2, "DescribeSecurityGroups", &p, &a, err,
                          "reading the ingress rules of the security group %s", groups[0]);
    aws_params_release(&p);
    if (status != SP_OK && code_is(&a, "InvalidGroup.NotFound")) {
        aws_answer_release(&a);
        sp_error_clear(err);
        return SP_OK;
    }
    xmlNodePtr *sgs = NULL;
    size_t sg_count =
        status == SP_OK ? aws_xml_nodes(a.doc, NULL, "//securityGroupInfo/item", &sgs) : 0;
    for (size_t g = 0; g < sg_count; g++) {
        char *group_id = aws_xml_text(a.doc, sgs[g], "groupId");
        xmlNodePtr *perms;
        size_t perm_count = aws_xml_nodes(a.doc, sgs[g], "ipPermissions/item", &perms);
        for (size_t k = 0; k < perm_count; k++) {
            char *protocol = aws_xml_text(a.doc, perms[k], "ipProtocol");
            int from = xml_int(a.doc, perms[k], "fromPort", -1);
            int to = xml_int(a.doc, perms[k], "toPort", -1);
            bool all = protocol && strcmp(protocol, "-1") == 0;
            bool tcp = protocol && (strcmp(protocol, "tcp") == 0 || strcmp(protocol, "6") == 0);
            bool covers = port == 0 || all || (tcp && from <= port && port <= to);
            xmlNodePtr *ranges = NULL;
            size_t range_count =
                covers ? aws_xml_nodes(a.doc, perms[k], "ipRanges/item", &ranges) : 0;
            for (size_t r = 0; r < range_count; r++) {
                *rules = xrealloc(*rules, (*rule_count + 1) * sizeof **rules);
                struct cluster_rule *rule = &(*rules)[(*rule_count)++];
                rule->group_id = xstrdup(group_id ? group_id : "");
                rule->protocol = xstrdup(protocol ? protocol : "");
                rule->from_port = from;
                rule->to_port = to;
                rule->cidr = aws_xml_text(a.doc, ranges[r], "cidrIp");
                if (!rule->cidr)
                    rule->cidr = xstrdup("");
                rule->description = aws_xml_text(a.doc, ranges[r], "description");
            }
            free(ranges);
            free(protocol);
        }
        free(perms);
        free(group_id);
    }
    free(sgs);
    aws_answer_release(&a);
    return status;
}

/* DescribeClusters alone; `rules` also reads the ingress rules. */
static int describe(struct aws_client *aws, const char *identifier, bool rules,
                    struct cluster_info *out, struct sp_error *err)
{
    memset(out, 0, sizeof *out);
    struct aws_params p;
    aws_params_init(&p);
    aws_params_add(&p, "ClusterIdentifier", identifier);
    struct aws_answer a;
    int status = aws_call(aws, AWS_REDSHIFT, "DescribeClusters", &p, &a, err,
                          "looking up the Redshift cluster %s", identifier);
    aws_params_release(&p);
    if (status != SP_OK) {
        status = forgive(status, &a, "ClusterNotFound", err);
        aws_answer_release(&a);
        return status;
    }
    xmlNodePtr *clusters;
    size_t count = aws_xml_nodes(a.doc, NULL, "//DescribeClustersResult/Clusters/*", &clusters);
    if (count) {
        xmlNodePtr c = clusters[0];
        out->exists = true;
        out->identifier = aws_xml_text(a.doc, c, "ClusterIdentifier");
        out->status = aws_xml_text(a.doc, c, "ClusterStatus");
        out->address = aws_xml_text(a.doc, c, "Endpoint/Address");
        out->port = xml_int(a.doc, c, "Endpoint/Port", 0);
        out->node_type = aws_xml_text(a.doc, c, "NodeType");
        out->nodes = xml_int(a.doc, c, "NumberOfNodes", 0);
        out->db_name = aws_xml_text(a.doc, c, "DBName");
        out->master_user = aws_xml_text(a.doc, c, "MasterUsername");
        out->vpc_id = aws_xml_text(a.doc, c, "VpcId");
        out->encrypted = xml_true(a.doc, c, "Encrypted");
        out->publicly_accessible = xml_true(a.doc, c, "PubliclyAccessible");
        if (!out->status)
            out->status = xstrdup("");
        xmlNodePtr *items;
        size_t n = aws_xml_nodes(a.doc, c, "IamRoles/*", &items);
        out->roles = n ? xcalloc(n, sizeof *out->roles) : NULL;
        for (size_t i = 0; i < n; i++) {
            out->roles[i].arn = aws_xml_text(a.doc, items[i], "IamRoleArn");
            out->roles[i].status = aws_xml_text(a.doc, items[i], "ApplyStatus");
            if (out->roles[i].arn)
                out->role_count++;
        }
        free(items);
        n = aws_xml_nodes(a.doc, c, "VpcSecurityGroups/*/VpcSecurityGroupId", &items);
        out->groups = n ? xcalloc(n, sizeof *out->groups) : NULL;
        for (size_t i = 0; i < n; i++) {
            xmlChar *text = xmlNodeGetContent(items[i]);
            out->groups[out->group_count++] = xstrdup(text ? (const char *)text : "");
            xmlFree(text);
        }
        free(items);
    }
    free(clusters);
    aws_answer_release(&a);
    if (out->exists && rules)
        status = read_rules(aws, out->groups, out->group_count, out->port, &out->rules,
                            &out->rule_count, err);
    return status;
}

int cluster_describe(struct aws_client *aws, const char *identifier, struct cluster_info *out,
                     struct sp_error *err)
{
    return describe(aws, identifier, true, out, err);
}

/* ---- waiting ---- */

/* A state waiting does not leave (DescribeClusters' ClusterStatus values). */
static bool hopeless(const char *state)
{
    static const char *const states[] = {
        "paused",
        "deleting",
        "final-snapshot",
        "hardware-failure",
        "incompatible-hsm",
        "incompatible-network",
        "incompatible-parameters",
        "incompatible-restore",
        "storage-full",
    };
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (strcmp(state, states[i]) == 0)
            return true;
    return false;
}

/* Whether the cluster is ready for sparkify: available, with an endpoint, every role in sync
 * (COPY cannot use a role still being added). `state` says what it waits for. */
static bool ready(const struct cluster_info *i, char *state, size_t size)
{
    snprintf(state, size, "%s", i->status);
    if (strcmp(i->status, "available") != 0)
        return false;
    for (size_t r = 0; r < i->role_count; r++) {
        if (i->roles[r].status && strcmp(i->roles[r].status, "in-sync") != 0) {
            snprintf(state, size, "available, role %s %s", i->roles[r].arn, i->roles[r].status);
            return false;
        }
    }
    if (!i->address || !*i->address) {
        snprintf(state, size, "available, without an endpoint yet");
        return false;
    }
    return true;
}

/* Polls until the cluster is ready (`gone` false) or no longer exists (`gone` true). */
static int wait_for(struct aws_client *aws, const char *identifier, bool gone,
                    const struct cluster_hooks *h, struct cluster_info *out, struct sp_error *err)
{
    double started = now(), interval = h->poll_interval > 0 ? h->poll_interval : 5.0;
    for (;;) {
        int status = describe(aws, identifier, false, out, err);
        if (status != SP_OK)
            return status;
        char state[512];
        if (gone && !out->exists)
            return SP_OK;
        if (!gone && !out->exists)
            return sp_fail(err,
                           "the Redshift cluster %s disappeared while sparkify waited for it to "
                           "be available (was it deleted?)",
                           identifier);
        if (!gone && ready(out, state, sizeof state))
            return read_rules(aws, out->groups, out->group_count, out->port, &out->rules,
                              &out->rule_count, err);
        if (gone)
            snprintf(state, sizeof state, "%s", out->status);
        else if (hopeless(out->status))
            return sp_fail(err,
                           "the Redshift cluster %s is %s: it will not become available by "
                           "waiting (see its events in the Redshift console)",
                           identifier, out->status);
        double waited = now() - started;
        if (waited >= h->timeout) {
            sp_fail(err,
                    "the Redshift cluster %s is still %s after %.0f s (--timeout %g): AWS goes "
                    "on with it; %s",
                    identifier, state, waited, h->timeout,
                    gone ? "run `sparkify cluster delete` again to wait for it and remove the "
                           "ingress rule and the role"
                         : "run `sparkify cluster create` again to wait for it and write the "
                           "config, or `sparkify cluster delete`");
            cluster_info_release(out);
            return SP_FAIL;
        }
        if (h->progress)
            h->progress(h->ctx, identifier, state, waited);
        cluster_info_release(out);
        double left = h->timeout - waited;
        sleep_seconds(interval < left ? interval : left);
        interval = interval * 2 < MAX_POLL ? interval * 2 : MAX_POLL;
    }
}

/* ---- the role ---- */

/* The role's ARN and whether sparkify made it for this cluster (its tag). NoSuchEntity leaves
 * *arn NULL. */
static int get_role(struct aws_client *aws, const char *name, const char *identifier, char **arn,
                    bool *ours, char **trust, struct sp_error *err)
{
    *arn = NULL;
    *ours = false;
    if (trust)
        *trust = NULL;
    struct aws_params p;
    aws_params_init(&p);
    aws_params_add(&p, "RoleName", name);
    struct aws_answer a;
    int status = aws_call(aws, AWS_IAM, "GetRole", &p, &a, err, "looking up the IAM role %s", name);
    aws_params_release(&p);
    if (status != SP_OK) {
        status = forgive(status, &a, "NoSuchEntity", err);
        aws_answer_release(&a);
        return status;
    }
    *arn = aws_xml_text(a.doc, NULL, "//GetRoleResult/Role/Arn");
    char xpath[128];
    snprintf(xpath, sizeof xpath, "//GetRoleResult/Role/Tags/*[Key='%s']/Value", CLUSTER_TAG_KEY);
    char *tag = aws_xml_text(a.doc, NULL, xpath);
    *ours = tag && strcmp(tag, identifier) == 0;
    free(tag);
    if (trust) {
        char *doc = aws_xml_text(a.doc, NULL, "//GetRoleResult/Role/AssumeRolePolicyDocument");
        *trust = url_decoded(doc);
        free(doc);
    }
    aws_answer_release(&a);
    if (!*arn)
        return sp_fail(err, "IAM GetRole answered without the ARN of the role %s", name);
    return SP_OK;
}

static int create_role(struct aws_client *aws, const struct cluster_settings *s,
                       const struct cluster_caller *who, char **arn, struct sp_error *err)
{
    char *trust = cluster_trust_policy();
    struct aws_params p;
    aws_params_init(&p);
    aws_params_add(&p, "RoleName", s->role_name);
    aws_params_add(&p, "AssumeRolePolicyDocument", trust);
    aws_params_addf(&p, "Description",
                    "Lets the Redshift cluster %s read its S3 sources (sparkify)", s->identifier);
    aws_params_add(&p, "Tags.member.1.Key", CLUSTER_TAG_KEY);
    aws_params_add(&p, "Tags.member.1.Value", s->identifier);
    struct aws_answer a;
    int status =
        aws_call(aws, AWS_IAM, "CreateRole", &p, &a, err, "creating the IAM role %s", s->role_name);
    aws_params_release(&p);
    free(trust);
    *arn = NULL;
    if (status == SP_OK && a.doc)
        *arn = aws_xml_text(a.doc, NULL, "//CreateRoleResult/Role/Arn");
    else if (status == SP_OK) { /* a dry run: the ARN IAM would give it */
        struct buffer b;
        buffer_init(&b);
        buffer_printf(&b, "arn:%s:iam::%s:role/%s", who->partition, who->account, s->role_name);
        *arn = b.data;
    }
    bool raced = status != SP_OK && code_is(&a, "EntityAlreadyExists");
    aws_answer_release(&a);
    if (raced) { /* made meanwhile, or by a try whose answer was lost */
        sp_error_clear(err);
        bool ours;
        status = get_role(aws, s->role_name, s->identifier, arn, &ours, NULL, err);
    }
    if (status == SP_OK && !*arn)
        status =
            sp_fail(err, "IAM CreateRole answered without the ARN of the role %s", s->role_name);
    return status;
}

/* Whether two JSON documents are the same (IAM may reorder nothing, but spaces differ). */
static bool same_json(const char *a, const char *b)
{
    cJSON *x = a ? cJSON_Parse(a) : NULL, *y = b ? cJSON_Parse(b) : NULL;
    bool same = x && y && cJSON_Compare(x, y, true);
    cJSON_Delete(x);
    cJSON_Delete(y);
    return same;
}

/* The inline policy on exactly the config's prefixes, written unless it is there already. */
static int ensure_inline_policy(struct aws_client *aws, const struct cluster_settings *s,
                                const char *partition, bool *written, struct sp_error *err)
{
    char *policy = NULL;
    int status = cluster_role_policy(s, partition, &policy, err);
    if (status != SP_OK)
        return status;
    struct aws_params p;
    aws_params_init(&p);
    aws_params_add(&p, "RoleName", s->role_name);
    aws_params_add(&p, "PolicyName", CLUSTER_POLICY_NAME);
    struct aws_answer a;
    status =
        aws_call(aws, AWS_IAM, "GetRolePolicy", &p, &a, err,
                 "reading the policy " CLUSTER_POLICY_NAME " of the IAM role %s", s->role_name);
    bool same = false;
    if (status == SP_OK && a.doc) {
        char *doc = aws_xml_text(a.doc, NULL, "//GetRolePolicyResult/PolicyDocument");
        char *decoded = url_decoded(doc);
        same = same_json(decoded, policy);
        free(doc);
        free(decoded);
    } else if (status != SP_OK && code_is(&a, "NoSuchEntity")) {
        /* none yet (or, in a dry run, no role yet) */
        sp_error_clear(err);
        status = SP_OK;
    }
    aws_answer_release(&a);
    if (status == SP_OK && !same) {
        aws_params_add(&p, "PolicyDocument", policy);
        status =
            aws_call(aws, AWS_IAM, "PutRolePolicy", &p, &a, err,
                     "writing the policy " CLUSTER_POLICY_NAME " of the IAM role %s", s->role_name);
        aws_answer_release(&a);
        *written = status == SP_OK;
    }
    aws_params_release(&p);
    free(policy);
    return status;
}

static int ensure_managed_policy(struct aws_client *aws, const struct cluster_settings *s,
                                 const char *partition, bool *written, struct sp_error *err)
{
    char policy_arn[128];
    snprintf(policy_arn, sizeof policy_arn, "arn:%s:iam::aws:policy/%s", partition,
             CLUSTER_MANAGED_POLICY);
    struct aws_params p;
    aws_params_init(&p);
    aws_params_add(&p, "RoleName", s->role_name);
    struct aws_answer a;
    int status = aws_call(aws, AWS_IAM, "ListAttachedRolePolicies", &p, &a, err,
                          "listing the policies attached to the IAM role %s", s->role_name);
    bool attached = false;
    if (status == SP_OK && a.doc) {
        xmlNodePtr *arns;
        size_t n = aws_xml_nodes(a.doc, NULL, "//AttachedPolicies/*/PolicyArn", &arns);
        for (size_t i = 0; i < n; i++) {
            xmlChar *text = xmlNodeGetContent(arns[i]);
            attached |= text && strcmp((const char *)text, policy_arn) == 0;
            xmlFree(text);
        }
        free(arns);
    } else if (status != SP_OK && code_is(&a, "NoSuchEntity")) { /* a dry run: no role yet */
        sp_error_clear(err);
        status = SP_OK;
    }
    aws_answer_release(&a);
    if (status == SP_OK && !attached) {
        aws_params_add(&p, "PolicyArn", policy_arn);
        status = aws_call(aws, AWS_IAM, "AttachRolePolicy", &p, &a, err,
                          "attaching %s to the IAM role %s", CLUSTER_MANAGED_POLICY, s->role_name);
        aws_answer_release(&a);
        *written = status == SP_OK;
    }
    aws_params_release(&p);
    return status;
}

static int ensure_role(struct aws_client *aws, const struct cluster_settings *s,
                       const struct cluster_caller *who, const struct cluster_hooks *h,
                       struct cluster_created *out, struct sp_error *err)
{
    bool ours = false;
    char *trust = NULL;
    int status = get_role(aws, s->role_name, s->identifier, &out->role_arn, &ours, &trust, err);
    if (status == SP_OK && !out->role_arn) {
        status = create_role(aws, s, who, &out->role_arn, err);
        out->role_created = status == SP_OK;
        ours = true;
    } else if (status == SP_OK && !ours) {
        notice(h,
               "the IAM role %s exists and is not sparkify's for this cluster (no tag %s = %s): "
               "the cluster gets it as it is; sparkify neither changes nor deletes it",
               s->role_name, CLUSTER_TAG_KEY, s->identifier);
        if (!trust || !strstr(trust, "redshift.amazonaws.com"))
            notice(h,
                   "the trust policy of the IAM role %s does not name redshift.amazonaws.com: "
                   "the cluster may be unable to assume it",
                   s->role_name);
    }
    free(trust);
    if (status == SP_OK && ours)
        status = s->managed_s3_policy
                     ? ensure_managed_policy(aws, s, who->partition, &out->policy_written, err)
                     : ensure_inline_policy(aws, s, who->partition, &out->policy_written, err);
    return status;
}

/* ---- the network ---- */

/* The default security group of the default VPC, or NULL (with `required` false) when the
 * region has no default VPC. */
static int default_group(struct aws_client *aws, bool required, char **group, struct sp_error *err)
{
    *group = NULL;
    struct aws_params p;
    aws_params_init(&p);
    aws_params_add(&p, "Filter.1.Name", "isDefault");
    aws_params_add(&p, "Filter.1.Value.1", "true");
    struct aws_answer a;
    int status = aws_call(aws, AWS_EC2, "DescribeVpcs", &p, &a, err,
                          "looking for the default VPC in %s", aws_client_region(aws));
    aws_params_release(&p);
    char *vpc = status == SP_OK ? aws_xml_text(a.doc, NULL, "//vpcSet/item/vpcId") : NULL;
    aws_answer_release(&a);
    if (status != SP_OK)
        return status;
    if (!vpc)
        return required ? sp_fail(err,
                                  "there is no default VPC in %s, where sparkify creates the "
                                  "cluster: create one (aws ec2 create-default-vpc) or use "
                                  "another region",
                                  aws_client_region(aws))
                        : SP_OK;
    aws_params_init(&p);
    aws_params_add(&p, "Filter.1.Name", "vpc-id");
    aws_params_add(&p, "Filter.1.Value.1", vpc);
    aws_params_add(&p, "Filter.2.Name", "group-name");
    aws_params_add(&p, "Filter.2.Value.1", "default");
    status = aws_call(aws, AWS_EC2, "DescribeSecurityGroups", &p, &a, err,
                      "looking for the default security group of %s", vpc);
    aws_params_release(&p);
    if (status == SP_OK)
        *group = aws_xml_text(a.doc, NULL, "//securityGroupInfo/item/groupId");
    aws_answer_release(&a);
    if (status == SP_OK && !*group && required)
        status = sp_fail(err, "the default VPC %s has no default security group", vpc);
    free(vpc);
    return status;
}

static void rule_description(char *out, size_t size, const char *identifier)
{
    snprintf(out, size, CLUSTER_RULE_PREFIX "%s", identifier);
}

static int ensure_rule(struct aws_client *aws, const struct cluster_settings *s, char *group,
                       int port, const struct cluster_hooks *h, bool *added, struct sp_error *err)
{
    struct cluster_rule *rules;
    size_t count;
    int status = read_rules(aws, &group, 1, port, &rules, &count, err);
    char description[128];
    rule_description(description, sizeof description, s->identifier);
    bool present = false;
    for (size_t i = 0; status == SP_OK && i < count; i++) {
        if (strcmp(rules[i].cidr, s->allow_cidr) != 0)
            continue;
        present = true;
        if (!rules[i].description || strcmp(rules[i].description, description) != 0)
            notice(h,
                   "the security group %s already lets %s reach port %d (a rule sparkify did "
                   "not add: it stays when the cluster is deleted)",
                   group, s->allow_cidr, port);
    }
    free_rules(rules, count);
    if (status != SP_OK || present)
        return status;
    struct aws_params p;
    aws_params_init(&p);
    aws_params_add(&p, "GroupId", group);
    aws_params_add(&p, "IpPermissions.1.IpProtocol", "tcp");
    aws_params_addf(&p, "IpPermissions.1.FromPort", "%d", port);
    aws_params_addf(&p, "IpPermissions.1.ToPort", "%d", port);
    aws_params_add(&p, "IpPermissions.1.IpRanges.1.CidrIp", s->allow_cidr);
    aws_params_add(&p, "IpPermissions.1.IpRanges.1.Description", description);
    struct aws_answer a;
    status = aws_call(aws, AWS_EC2, "AuthorizeSecurityGroupIngress", &p, &a, err,
                      "opening port %d to %s in the security group %s", port, s->allow_cidr, group);
    aws_params_release(&p);
    if (status != SP_OK && code_is(&a, "InvalidPermission.Duplicate")) {
        sp_error_clear(err);
        status = SP_OK;
    } else {
        *added = status == SP_OK;
    }
    aws_answer_release(&a);
    if (status == SP_OK && strcmp(s->allow_cidr, "0.0.0.0/0") == 0)
        notice(h, "port %d is open to the whole internet (0.0.0.0/0), as --allow-cidr asked", port);
    return status;
}

/* ---- the cluster ---- */

static int create_cluster(struct aws_client *aws, const struct cluster_settings *s,
                          const char *group, const char *role_arn, struct cluster_created *out,
                          struct sp_error *err)
{
    const char *password = s->db_password;
    if (!password) {
        char generated[33];
        int status = cluster_generate_password(generated, err);
        if (status != SP_OK)
            return status;
        out->generated_password = xstrdup(generated);
        memset(generated, 0, sizeof generated);
        password = out->generated_password;
    }
    aws_client_add_secret(aws, password);
    struct aws_params p;
    aws_params_init(&p);
    aws_params_add(&p, "ClusterIdentifier", s->identifier);
    aws_params_add(&p, "ClusterType", s->cluster_type);
    aws_params_add(&p, "NodeType", s->node_type);
    if (strcmp(s->cluster_type, "multi-node") == 0)
        aws_params_addf(&p, "NumberOfNodes", "%d", s->nodes);
    aws_params_add(&p, "DBName", s->db_name);
    aws_params_add(&p, "MasterUsername", s->db_user);
    aws_params_add_secret(&p, "MasterUserPassword", password);
    aws_params_addf(&p, "Port", "%d", s->port);
    aws_params_add(&p, "IamRoles.IamRoleArn.1", role_arn);
    aws_params_add(&p, "VpcSecurityGroupIds.VpcSecurityGroupId.1", group);
    aws_params_add(&p, "Encrypted", "true");
    aws_params_add(&p, "PubliclyAccessible", s->publicly_accessible ? "true" : "false");
    aws_params_add(&p, "Tags.Tag.1.Key", CLUSTER_TAG_KEY);
    aws_params_add(&p, "Tags.Tag.1.Value", s->identifier);
    struct aws_answer a;
    int status = aws_call(aws, AWS_REDSHIFT, "CreateCluster", &p, &a, err,
                          "creating the Redshift cluster %s", s->identifier);
    aws_params_release(&p);
    if (status != SP_OK && code_is(&a, "ClusterAlreadyExists")) {
        sp_error_clear(err); /* made meanwhile, or by a try whose answer was lost */
        status = SP_OK;
    } else {
        out->cluster_created = status == SP_OK;
    }
    aws_answer_release(&a);
    return status;
}

/* An existing cluster: what differs from the settings is said, not changed (a resize is the
 * user's decision); a missing role is added, since COPY needs it. */
static int adopt_cluster(struct aws_client *aws, const struct cluster_settings *s,
                         const struct cluster_info *c, const char *role_arn,
                         const struct cluster_hooks *h, struct cluster_created *out,
                         struct sp_error *err)
{
    if ((c->node_type && strcmp(c->node_type, s->node_type) != 0) || c->nodes != s->nodes)
        notice(h,
               "the cluster %s exists with %d x %s; the settings ask for %d x %s: it is left as "
               "it is (resize it in the Redshift console)",
               s->identifier, c->nodes, c->node_type ? c->node_type : "?", s->nodes, s->node_type);
    if (c->publicly_accessible != s->publicly_accessible)
        notice(h, "the cluster %s exists and is %spublicly accessible: left as it is",
               s->identifier, c->publicly_accessible ? "" : "not ");
    if (!c->encrypted)
        notice(h, "the cluster %s exists and is not encrypted: left as it is", s->identifier);
    if (!s->db_password)
        out->password_unknown = true;
    for (size_t i = 0; i < c->role_count; i++)
        if (strcmp(c->roles[i].arn, role_arn) == 0)
            return SP_OK;
    struct aws_params p;
    aws_params_init(&p);
    aws_params_add(&p, "ClusterIdentifier", s->identifier);
    aws_params_add(&p, "AddIamRoles.IamRoleArn.1", role_arn);
    struct aws_answer a;
    int status =
        aws_call(aws, AWS_REDSHIFT, "ModifyClusterIamRoles", &p, &a, err,
                 "adding the IAM role %s to the Redshift cluster %s", s->role_name, s->identifier);
    aws_params_release(&p);
    aws_answer_release(&a);
    return status;
}

void cluster_created_release(struct cluster_created *c)
{
    cluster_info_release(&c->info);
    free(c->role_arn);
    if (c->generated_password) {
        memset(c->generated_password, 0, strlen(c->generated_password));
        free(c->generated_password);
    }
    memset(c, 0, sizeof *c);
}

int cluster_create(struct aws_client *aws, const struct cluster_settings *s,
                   const struct cluster_hooks *h, struct cluster_created *out, struct sp_error *err)
{
    memset(out, 0, sizeof *out);
    struct cluster_caller who;
    struct cluster_info existing;
    memset(&existing, 0, sizeof existing);
    char *group = NULL;
    int status = cluster_caller_identity(aws, h, &who, err);
    if (status == SP_OK)
        status = describe(aws, s->identifier, false, &existing, err);
    if (status == SP_OK && existing.exists &&
        (strcmp(existing.status, "deleting") == 0 ||
         strcmp(existing.status, "final-snapshot") == 0))
        status = sp_fail(err,
                         "the Redshift cluster %s is being deleted (%s): run `sparkify cluster "
                         "create` again once it is gone",
                         s->identifier, existing.status);
    if (status == SP_OK)
        status = ensure_role(aws, s, &who, h, out, err);
    if (status == SP_OK) {
        if (existing.exists && existing.group_count)
            group = xstrdup(existing.groups[0]);
        else
            status = default_group(aws, true, &group, err);
    }
    int port = existing.exists && existing.port ? existing.port : s->port;
    if (status == SP_OK && s->allow_cidr)
        status = ensure_rule(aws, s, group, port, h, &out->rule_added, err);
    if (status == SP_OK && !existing.exists)
        status = create_cluster(aws, s, group, out->role_arn, out, err);
    else if (status == SP_OK)
        status = adopt_cluster(aws, s, &existing, out->role_arn, h, out, err);
    if (status == SP_OK && !aws_client_is_dry_run(aws))
        status = wait_for(aws, s->identifier, false, h, &out->info, err);
    free(group);
    cluster_info_release(&existing);
    cluster_caller_release(&who);
    return status;
}

/* ---- deleting ---- */

static int revoke_rules(struct aws_client *aws, const struct cluster_settings *s, char **groups,
                        size_t group_count, struct cluster_deleted *out, struct sp_error *err)
{
    struct cluster_rule *rules;
    size_t count;
    int status = read_rules(aws, groups, group_count, 0, &rules, &count, err);
    char description[128];
    rule_description(description, sizeof description, s->identifier);
    for (size_t i = 0; status == SP_OK && i < count; i++) {
        if (!rules[i].description || strcmp(rules[i].description, description) != 0)
            continue;
        struct aws_params p;
        aws_params_init(&p);
        aws_params_add(&p, "GroupId", rules[i].group_id);
        aws_params_add(&p, "IpPermissions.1.IpProtocol", rules[i].protocol);
        aws_params_addf(&p, "IpPermissions.1.FromPort", "%d", rules[i].from_port);
        aws_params_addf(&p, "IpPermissions.1.ToPort", "%d", rules[i].to_port);
        aws_params_add(&p, "IpPermissions.1.IpRanges.1.CidrIp", rules[i].cidr);
        struct aws_answer a;
        status = aws_call(aws, AWS_EC2, "RevokeSecurityGroupIngress", &p, &a, err,
                          "removing the rule that lets %s reach port %d in the security group %s",
                          rules[i].cidr, rules[i].from_port, rules[i].group_id);
        aws_params_release(&p);
        if (status != SP_OK && code_is(&a, "InvalidPermission.NotFound")) {
            sp_error_clear(err);
            status = SP_OK;
        } else if (status == SP_OK) {
            out->rules_revoked++;
        }
        aws_answer_release(&a);
    }
    free_rules(rules, count);
    return status;
}

/* The names (or ARNs) a role's policies listing holds, following its Marker. */
static int list_role(struct aws_client *aws, const char *action, const char *xpath,
                     const char *role, char ***items, size_t *count, struct sp_error *err)
{
    *items = NULL;
    *count = 0;
    char *marker = NULL;
    int status = SP_OK;
    do {
        struct aws_params p;
        aws_params_init(&p);
        aws_params_add(&p, "RoleName", role);
        if (marker)
            aws_params_add(&p, "Marker", marker);
        free(marker);
        marker = NULL;
        struct aws_answer a;
        status = aws_call(aws, AWS_IAM, action, &p, &a, err,
                          "listing the policies of the IAM "
                          "role %s",
                          role);
        aws_params_release(&p);
        if (status == SP_OK) {
            xmlNodePtr *nodes;
            size_t n = aws_xml_nodes(a.doc, NULL, xpath, &nodes);
            *items = xrealloc(*items, (*count + n + 1) * sizeof **items);
            for (size_t i = 0; i < n; i++) {
                xmlChar *text = xmlNodeGetContent(nodes[i]);
                (*items)[(*count)++] = xstrdup(text ? (const char *)text : "");
                xmlFree(text);
            }
            free(nodes);
            char *truncated = aws_xml_text(a.doc, NULL, "//IsTruncated");
            if (truncated && strcmp(truncated, "true") == 0)
                marker = aws_xml_text(a.doc, NULL, "//Marker");
            free(truncated);
        }
        aws_answer_release(&a);
    } while (status == SP_OK && marker);
    free(marker);
    return status;
}

static void free_list(char **items, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(items[i]);
    free(items);
}

/* One kind of policy a role carries: how to list them, and how to take one off. */
struct role_policies {
    const char *list_action, *xpath;   /* the listing and where its names are */
    const char *remove_action, *param; /* the removal and the parameter naming one */
    const char *verb, *relation;       /* "VERB POLICY RELATION the IAM role ROLE", for messages */
};

static const struct role_policies inline_policies = {"ListRolePolicies",    "//PolicyNames/*",
                                                     "DeleteRolePolicy",    "PolicyName",
                                                     "removing the policy", "of"};
static const struct role_policies attached_policies = {"ListAttachedRolePolicies",
                                                       "//AttachedPolicies/*/PolicyArn",
                                                       "DetachRolePolicy",
                                                       "PolicyArn",
                                                       "detaching",
                                                       "from"};

/* Takes every policy of kind `k` off the role; one already gone (NoSuchEntity) is no error. */
static int remove_role_policies(struct aws_client *aws, const char *role,
                                const struct role_policies *k, struct cluster_deleted *out,
                                struct sp_error *err)
{
    char **names;
    size_t count;
    int status = list_role(aws, k->list_action, k->xpath, role, &names, &count, err);
    for (size_t i = 0; status == SP_OK && i < count; i++) {
        struct aws_params p;
        aws_params_init(&p);
        aws_params_add(&p, "RoleName", role);
        aws_params_add(&p, k->param, names[i]);
        struct aws_answer a;
        status = aws_call(aws, AWS_IAM, k->remove_action, &p, &a, err, "%s %s %s the IAM role %s",
                          k->verb, names[i], k->relation, role);
        out->policies_removed += status == SP_OK;
        status = forgive(status, &a, "NoSuchEntity", err);
        aws_params_release(&p);
        aws_answer_release(&a);
    }
    free_list(names, count);
    return status;
}

static int delete_role(struct aws_client *aws, const struct cluster_settings *s,
                       const struct cluster_hooks *h, struct cluster_deleted *out,
                       struct sp_error *err)
{
    char *arn = NULL;
    bool ours = false;
    int status = get_role(aws, s->role_name, s->identifier, &arn, &ours, NULL, err);
    if (status != SP_OK || !arn)
        return status;
    free(arn);
    if (!ours) {
        out->role_not_ours = true;
        notice(h,
               "the IAM role %s is not sparkify's for this cluster (no tag %s = %s): left as it "
               "is",
               s->role_name, CLUSTER_TAG_KEY, s->identifier);
        return SP_OK;
    }
    if (status == SP_OK)
        status = remove_role_policies(aws, s->role_name, &inline_policies, out, err);
    if (status == SP_OK)
        status = remove_role_policies(aws, s->role_name, &attached_policies, out, err);
    if (status != SP_OK)
        return status;
    struct aws_params p;
    aws_params_init(&p);
    aws_params_add(&p, "RoleName", s->role_name);
    struct aws_answer a;
    status =
        aws_call(aws, AWS_IAM, "DeleteRole", &p, &a, err, "deleting the IAM role %s", s->role_name);
    out->role_deleted = status == SP_OK;
    status = forgive(status, &a, "NoSuchEntity", err);
    aws_params_release(&p);
    aws_answer_release(&a);
    return status;
}

int cluster_delete(struct aws_client *aws, const struct cluster_settings *s,
                   const struct cluster_hooks *h, struct cluster_deleted *out, struct sp_error *err)
{
    memset(out, 0, sizeof *out);
    struct cluster_caller who;
    struct cluster_info existing, gone;
    memset(&existing, 0, sizeof existing);
    memset(&gone, 0, sizeof gone);
    char **groups = NULL;
    size_t group_count = 0;
    int status = cluster_caller_identity(aws, h, &who, err);
    if (status == SP_OK)
        status = describe(aws, s->identifier, false, &existing, err);
    /* The groups whose rules name the cluster: its own, or, when it is gone already (a delete
     * that stopped half-way), the default group that create uses. */
    if (status == SP_OK && existing.exists && existing.group_count) {
        groups = existing.groups;
        group_count = existing.group_count;
    } else if (status == SP_OK) {
        char *group = NULL;
        status = default_group(aws, false, &group, err);
        if (group) {
            existing.groups = xrealloc(existing.groups, sizeof *existing.groups);
            existing.groups[0] = group;
            existing.group_count = 1;
            groups = existing.groups;
            group_count = 1;
        }
    }
    bool deleting = existing.exists && (strcmp(existing.status, "deleting") == 0 ||
                                        strcmp(existing.status, "final-snapshot") == 0);
    if (status == SP_OK && existing.exists && !deleting) {
        struct aws_params p;
        aws_params_init(&p);
        aws_params_add(&p, "ClusterIdentifier", s->identifier);
        aws_params_add(&p, "SkipFinalClusterSnapshot", s->final_snapshot ? "false" : "true");
        if (s->final_snapshot)
            aws_params_add(&p, "FinalClusterSnapshotIdentifier", s->final_snapshot);
        struct aws_answer a;
        status = aws_call(aws, AWS_REDSHIFT, "DeleteCluster", &p, &a, err,
                          "deleting the Redshift cluster %s", s->identifier);
        out->cluster_deleted = status == SP_OK;
        status = forgive(status, &a, "ClusterNotFound", err);
        aws_params_release(&p);
        aws_answer_release(&a);
    }
    if (status == SP_OK && existing.exists && !aws_client_is_dry_run(aws))
        status = wait_for(aws, s->identifier, true, h, &gone, err);
    if (status == SP_OK)
        status = revoke_rules(aws, s, groups, group_count, out, err);
    if (status == SP_OK)
        status = delete_role(aws, s, h, out, err);
    cluster_info_release(&gone);
    cluster_info_release(&existing);
    cluster_caller_release(&who);
    return status;
}
