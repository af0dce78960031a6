"""Redis URLs: a cluster URL names its seed nodes; bad ones are refused with a reason."""

from __future__ import annotations

import pytest

from chatserver.adapters.redis_client import is_cluster_url
from chatserver.config import ClusterUrlError, ConfigError, cluster_nodes, load_settings


def test_a_cluster_url_lists_its_seed_nodes_and_credentials() -> None:
    nodes, options = cluster_nodes("redis+cluster://app:s%40cret@10.0.0.1:7000,10.0.0.2:7001/")
    assert nodes == [("10.0.0.1", 7000), ("10.0.0.2", 7001)]
    assert options == {"ssl": False, "username": "app", "password": "s@cret"}


def test_tls_cluster_and_ipv6_nodes() -> None:
    nodes, options = cluster_nodes("rediss+cluster://[::1]:7000")
    assert nodes == [("::1", 7000)]
    assert options["ssl"] is True


@pytest.mark.parametrize(
    "url", ["redis+cluster://10.0.0.1", "redis+cluster://10.0.0.1:7000,:7001", "redis+cluster://h:7000/3"]
)
def test_bad_cluster_urls_are_refused(url: str) -> None:
    with pytest.raises(ClusterUrlError):
        cluster_nodes(url)
    with pytest.raises(ConfigError) as err:
        load_settings({"CHATSERVER_REDIS_URL": url})
    assert err.value.variable == "CHATSERVER_REDIS_URL"


def test_only_cluster_schemes_count_as_cluster() -> None:
    assert is_cluster_url("redis+cluster://h:1")
    assert is_cluster_url("rediss+cluster://h:1")
    assert not is_cluster_url("redis://h:1/0")
    assert not is_cluster_url("unix:///tmp/redis.sock")
