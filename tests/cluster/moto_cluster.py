"""moto_cluster.py - the Redshift stand-in's moto server (tests/redshift_standin/moto_server.py:
moto 5.2.1 with its signature check seeing the request URI as sent) with a Redshift cluster
whose life takes time, as on AWS, so that the tests see `sparkify cluster` wait.

moto reports a new cluster available at once and a deleted one gone at once. Here:
- after CreateCluster, the next N DescribeClusters of that cluster say "creating";
- after DeleteCluster, the next M DescribeClusters of it still find it, "deleting";
- the next T DescribeClusters (of any cluster) are refused with Throttling ("Rate exceeded",
  HTTP 400), as AWS refuses a client that asks too often.
N, M and T come from CONTROL_FILE, a JSON object {"creating": N, "deleting": M, "throttle": T}
(a missing key or file is 0): N and M are read when a cluster is created or deleted, T at each
DescribeClusters, which counts it down in the file. Nothing else about moto changes.

Usage: moto_cluster.py HOST PORT CONTROL_FILE
"""

import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "redshift_standin"))

import moto_server  # noqa: E402  (its import patches the signature check)
from moto.redshift.exceptions import RedshiftClientError  # noqa: E402
from moto.redshift.models import RedshiftBackend  # noqa: E402

control_file = None
lock = threading.Lock()
creating = {}  # cluster identifier -> DescribeClusters left that say "creating"
deleting = {}  # cluster identifier -> [the deleted cluster, DescribeClusters left that find it]


def control():
    try:
        with open(control_file) as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


_create_cluster = RedshiftBackend.create_cluster
_describe_clusters = RedshiftBackend.describe_clusters
_delete_cluster = RedshiftBackend.delete_cluster


def create_cluster(self, **kwargs):
    cluster = _create_cluster(self, **kwargs)
    with lock:
        polls = int(control().get("creating", 0))
        if polls > 0:
            creating[cluster.cluster_identifier] = polls
            cluster.status = "creating"
    return cluster


def describe_clusters(self, cluster_identifier=None, tag_keys=None):
    with lock:
        settings = control()
        if int(settings.get("throttle", 0)) > 0:
            settings["throttle"] = int(settings["throttle"]) - 1
            with open(control_file, "w") as f:
                json.dump(settings, f)
            raise RedshiftClientError("Throttling", "Rate exceeded")
        if cluster_identifier in deleting:
            cluster, left = deleting[cluster_identifier]
            if left > 0:
                deleting[cluster_identifier][1] = left - 1
                return [cluster]
            del deleting[cluster_identifier]
    clusters = _describe_clusters(self, cluster_identifier, tag_keys)
    with lock:
        for cluster in clusters:
            left = creating.get(cluster.cluster_identifier, 0)
            if left > 0:
                creating[cluster.cluster_identifier] = left - 1
                cluster.status = "creating"
            elif cluster.status == "creating":
                creating.pop(cluster.cluster_identifier, None)
                cluster.status = "available"
    return clusters


def delete_cluster(self, **kwargs):
    cluster = _delete_cluster(self, **kwargs)
    with lock:
        creating.pop(cluster.cluster_identifier, None)
        polls = int(control().get("deleting", 0))
        if polls > 0:
            cluster.status = "deleting"
            deleting[cluster.cluster_identifier] = [cluster, polls]
    return cluster


RedshiftBackend.create_cluster = create_cluster
RedshiftBackend.describe_clusters = describe_clusters
RedshiftBackend.delete_cluster = delete_cluster

if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: moto_cluster.py HOST PORT CONTROL_FILE")
    control_file = sys.argv[3]
    moto_server.main(["-H", sys.argv[1], "-p", sys.argv[2]])
