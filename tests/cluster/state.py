"""state.py - what AWS (here moto) holds about a cluster, read with boto3, apart from sparkify.

  state.py snapshot IDENTIFIER ROLE   the role (trust policy, tags, inline and attached
                                      policies), the cluster (or null) and every IPv4 ingress
                                      rule of the region's security groups, as sorted JSON
  state.py default-group              the id of the default VPC's default security group
  state.py user NAME ACTION...        an IAM user allowed only ACTIONs; prints its key and secret
  state.py cleanup IDENTIFIER ROLE    deletes the cluster, the rules described for it and the
                                      role, whatever is left of them (between tests)

All use AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION, as a user's
tools would. tests/e2e/cluster.bats imports it for its checks (PYTHONPATH=tests/cluster).
"""

import json
import os
import sys

import boto3
from botocore.config import Config


def client(service):
    return boto3.client(
        service,
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        region_name=os.environ.get("AWS_REGION", "us-west-2"),
        config=Config(retries={"max_attempts": 1}),
    )


def default_group():
    ec2 = client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    return groups[0]["GroupId"]


def snapshot(identifier, role):
    iam, redshift, ec2 = client("iam"), client("redshift"), client("ec2")
    out = {}
    try:
        r = iam.get_role(RoleName=role)["Role"]
        out["role"] = {
            "Arn": r["Arn"],
            "AssumeRolePolicyDocument": r["AssumeRolePolicyDocument"],
            "Tags": r.get("Tags", []),
            "Description": r.get("Description"),
            "CreateDate": str(r["CreateDate"]),
        }
        out["inline"] = {
            name: iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
        }
        out["attached"] = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
    except iam.exceptions.NoSuchEntityException:
        out["role"] = None
    try:
        c = redshift.describe_clusters(ClusterIdentifier=identifier)["Clusters"][0]
        keep = [
            "ClusterIdentifier", "NodeType", "NumberOfNodes", "ClusterStatus", "MasterUsername", "DBName",
            "Endpoint", "Encrypted", "PubliclyAccessible", "IamRoles", "VpcSecurityGroups", "ClusterCreateTime",
        ]
        out["cluster"] = {k: c.get(k) for k in keep}
    except redshift.exceptions.ClusterNotFoundFault:
        out["cluster"] = None
    rules = []
    for group in ec2.describe_security_groups()["SecurityGroups"]:
        for permission in group["IpPermissions"]:
            for r in permission.get("IpRanges", []):
                rules.append(
                    {
                        "GroupId": group["GroupId"],
                        "IpProtocol": permission["IpProtocol"],
                        "FromPort": permission.get("FromPort"),
                        "ToPort": permission.get("ToPort"),
                        "CidrIp": r["CidrIp"],
                        "Description": r.get("Description"),
                    }
                )
    out["rules"] = sorted(rules, key=lambda r: json.dumps(r, sort_keys=True))
    return out


def user(name, actions):
    iam = client("iam")
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    iam.put_user_policy(UserName=name, PolicyName="only", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def cleanup(identifier, role):
    iam, redshift, ec2 = client("iam"), client("redshift"), client("ec2")
    try:
        redshift.delete_cluster(ClusterIdentifier=identifier, SkipFinalClusterSnapshot=True)
    except redshift.exceptions.ClusterNotFoundFault:
        pass
    for group in ec2.describe_security_groups()["SecurityGroups"]:
        for permission in group["IpPermissions"]:
            for r in permission.get("IpRanges", []):
                if r.get("Description") == f"sparkify: cluster {identifier}":
                    ec2.revoke_security_group_ingress(
                        GroupId=group["GroupId"],
                        IpPermissions=[{"IpProtocol": permission["IpProtocol"], "FromPort": permission["FromPort"],
                                        "ToPort": permission["ToPort"], "IpRanges": [{"CidrIp": r["CidrIp"]}]}],
                    )
    try:
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            iam.delete_role_policy(RoleName=role, PolicyName=name)
        for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=role, PolicyArn=p["PolicyArn"])
        iam.delete_role(RoleName=role)
    except iam.exceptions.NoSuchEntityException:
        pass


def main(argv):
    if argv[:1] == ["snapshot"] and len(argv) == 3:
        print(json.dumps(snapshot(argv[1], argv[2]), sort_keys=True, indent=1, default=str))
    elif argv == ["default-group"]:
        print(default_group())
    elif argv[:1] == ["cleanup"] and len(argv) == 3:
        cleanup(argv[1], argv[2])
    elif argv[:1] == ["user"] and len(argv) >= 3:
        print(*user(argv[1], argv[2:]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
