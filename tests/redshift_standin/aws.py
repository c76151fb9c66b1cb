"""aws.py - the AWS side of the Redshift stand-in, on moto, with boto3 (both in this machine's
image; neither is in Debian).

  aws.py setup ENDPOINT REGION STAGING_BUCKET   creates the identities, the role and the
      staging bucket, then turns moto's signature and permission checks on; prints JSON
  aws.py mkbucket BUCKET REGION                 a bucket in REGION (tests: REGION mismatch)
  aws.py put BUCKET KEY FILE                    uploads FILE ('-' for stdin) as s3://BUCKET/KEY
  aws.py put-tree BUCKET PREFIX DIR             uploads DIR's files under PREFIX, keys in
                                                path order
  aws.py role NAME [--no-s3] [--chained-from ROLE]
                                                another role: one without S3 access, or one
                                                that ROLE's COPY sessions assume (chaining);
                                                prints its ARN

All but setup use AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION,
as a user's tools would.

Two identities are made, because Redshift has two: the user's own credentials (what sparkify
signs its listing and uploads with) and the cluster's, which assumes the IAM role a COPY names.
On AWS the cluster is the service principal redshift.amazonaws.com; moto can only check a
trust policy against a caller's ARN, so the role trusts both that service and the IAM user
standing in for the cluster. moto 5.2.1 compares only the AWS key of a Principal and fails on a
statement whose Principal lacks one, so both names sit in the same statement.
"""

import json
import os
import sys
import urllib.request

import boto3
from botocore.config import Config

ROLE_NAME = "RedshiftStandinRole"
# The session name the stand-in's cluster gives its AssumeRole calls (front.mjs).
SESSION_NAME = "redshift-standin-copy"
READ_S3 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            # COPY needs GetObject and ListBucket (docs/redshift.md, "Running on Redshift"); the
            # stand-in also asks each bucket's region, as the cluster's S3 client learns it.
            "Action": ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": "*",
        },
        # A role may be the first link of a chain ("Each role in the chain assumes the next
        # role", https://docs.aws.amazon.com/redshift/latest/mgmt/authorizing-redshift-service-chaining-roles.html).
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
    ],
}


def client(service, endpoint=None, region=None, key=None, secret=None):
    return boto3.client(
        service,
        endpoint_url=endpoint or os.environ["AWS_ENDPOINT_URL"],
        region_name=region or os.environ.get("AWS_REGION", "us-west-2"),
        aws_access_key_id=key or os.environ.get("AWS_ACCESS_KEY_ID", "setup"),
        aws_secret_access_key=secret or os.environ.get("AWS_SECRET_ACCESS_KEY", "setup"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def make_bucket(s3, bucket, region):
    if region == "us-east-1":
        s3.create_bucket(Bucket=bucket)
    else:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})


def trust_policy(principal_arn):
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "redshift.amazonaws.com", "AWS": principal_arn},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def user_with_key(iam, name, policy):
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="standin", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"arn": iam.get_user(UserName=name)["User"]["Arn"], "key": key["AccessKeyId"], "secret": key["SecretAccessKey"]}


def setup(endpoint, region, staging_bucket):
    iam = client("iam", endpoint, region)
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    user = user_with_key(iam, "sparkify", everything)
    cluster = user_with_key(
        iam,
        "redshift-standin-cluster",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]},
    )
    role = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=trust_policy(cluster["arn"]))["Role"]
    iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="copy-from-s3", PolicyDocument=json.dumps(READ_S3))
    make_bucket(client("s3", endpoint, region), staging_bucket, region)
    # From here on every request must be signed with a key moto knows, and be allowed.
    request = urllib.request.Request(
        endpoint + "/moto-api/reset-auth", data=b"0", headers={"Content-Type": "text/plain"}, method="POST"
    )
    urllib.request.urlopen(request).read()
    print(json.dumps({"user": user, "cluster": cluster, "role": role["Arn"]}))


def make_role(name, s3_access, chained_from):
    iam = client("iam")
    account = client("sts").get_caller_identity()["Account"]
    principal = f"arn:aws:iam::{account}:user/redshift-standin-cluster"
    if chained_from:
        # moto matches a trust policy's principal against the caller's exact ARN, which for
        # an assumed role is its session's.
        principal = f"arn:aws:sts::{account}:assumed-role/{chained_from}/{SESSION_NAME}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy(principal))["Role"]
    policy = READ_S3 if s3_access else {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:ListQueues", "Resource": "*"}]}
    iam.put_role_policy(RoleName=name, PolicyName="policy", PolicyDocument=json.dumps(policy))
    print(role["Arn"])


def main(argv):
    if not argv:
        sys.exit(__doc__)
    command, args = argv[0], argv[1:]
    if command == "setup" and len(args) == 3:
        setup(*args)
    elif command == "mkbucket" and len(args) == 2:
        make_bucket(client("s3", region=args[1]), args[0], args[1])
    elif command == "put" and len(args) == 3:
        body = sys.stdin.buffer.read() if args[2] == "-" else open(args[2], "rb").read()
        client("s3").put_object(Bucket=args[0], Key=args[1], Body=body)
    elif command == "put-tree" and len(args) == 3:
        s3 = client("s3")
        bucket, prefix, top = args
        files = sorted(os.path.join(d, f) for d, _, fs in os.walk(top) for f in fs)
        for path in files:
            key = prefix.rstrip("/") + "/" + os.path.relpath(path, top)
            with open(path, "rb") as f:
                s3.put_object(Bucket=bucket, Key=key, Body=f.read())
    elif command == "role" and args:
        rest = args[1:]
        chained = rest[rest.index("--chained-from") + 1] if "--chained-from" in rest else None
        make_role(args[0], "--no-s3" not in rest, chained)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
