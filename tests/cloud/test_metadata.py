"""The metadata service (169.254.169.254) through the router, as Neutron's L3 agent, metadata
proxy and agent and Nova's metadata API answer it: what a VM's `curl` gets (EC2 and OpenStack
trees, by the asking VM's fixed IP), the qrouter- namespace's redirect, and the proxy's
refusals. The kernel twin serves the same answers: examples/cloud-floating-ip.yaml's metadata
probes agree on both backends (tests/cloud/test_router.py)."""
from __future__ import annotations

import json

import pytest

from netplex.cloud.metadata import NOT_FOUND, answer, response
from netplex.scenario.sim import SimBackend
from tests.cloud.test_router import BASE, QROUTER, built

MD = "http://169.254.169.254"


@pytest.fixture(scope="module")
def cloud() -> SimBackend:
    return built(BASE + "openstack server create --network net1 --flavor m1.tiny --availability-zone nova:compute1 vm3")


def curl(b: SimBackend, vm: str, path: str, flags: str = "-s") -> tuple[int, str]:
    r = b.run("compute1", f"ip netns exec {vm} curl {flags} {MD}{path}")
    return r.status, r.output


def test_a_vm_reads_its_own_metadata_through_the_router(cloud: SimBackend) -> None:
    ids = {s["Name"]: s["ID"] for s in json.loads(cloud.run("compute1", "openstack server list -f json").output)}
    md = json.loads(curl(cloud, "vm1", "/openstack/latest/meta_data.json")[1])
    assert list(md) == ["uuid", "meta", "hostname", "name", "launch_index", "availability_zone", "random_seed",
                        "project_id", "devices", "dedicated_cpus"]
    assert (md["uuid"], md["name"], md["hostname"], md["availability_zone"]) == (ids["vm1"], "vm1", "vm1.novalocal",
                                                                                 "nova")
    assert len(md["random_seed"]) == 684   # 512 bytes, base64
    assert curl(cloud, "vm1", "/latest/meta-data/instance-id") == (0, "i-00000001")
    assert curl(cloud, "vm2", "/latest/meta-data/instance-id") == (0, "i-00000002")
    assert curl(cloud, "vm3", "/latest/meta-data/instance-type") == (0, "m1.tiny")
    assert curl(cloud, "vm2", "/latest/meta-data/local-ipv4") == (0, "10.0.0.4")
    assert curl(cloud, "vm1", "/latest/meta-data/public-ipv4") == (0, "198.51.100.10")   # its floating IP
    assert curl(cloud, "vm2", "/latest/meta-data/public-ipv4") == (0, "")
    assert curl(cloud, "vm1", "/latest/meta-data/security-groups") == (0, "web")
    assert curl(cloud, "vm1", "/latest/meta-data/placement/availability-zone") == (0, "nova")
    assert curl(cloud, "vm1", "/openstack")[1].splitlines()[-2:] == ["2020-10-14", "latest"]
    assert curl(cloud, "vm1", "/openstack/latest/")[1].splitlines() == [
        "meta_data.json", "password", "vendor_data.json", "network_data.json", "vendor_data2.json"]
    nd = json.loads(curl(cloud, "vm2", "/openstack/latest/network_data.json")[1])
    assert nd["networks"][0]["type"] == "ipv4_dhcp" and nd["links"][0]["mtu"] == 1450


def test_what_is_not_there_is_novas_404(cloud: SimBackend) -> None:
    assert curl(cloud, "vm1", "/latest/user-data", "-s -o /dev/null -w %{http_code}") == (0, "404")
    assert curl(cloud, "vm1", "/2099-01-01/meta-data/", "-s -f") == (22, "")
    status, out = curl(cloud, "vm1", "/latest/meta-data/instance-id", "-s -i")
    assert out.splitlines()[:4] == ["HTTP/1.1 200 OK", "Content-Type: text/plain; charset=UTF-8",
                                    "Content-Length: 10", "Connection: close"]


def test_the_router_redirects_only_its_tenant_ports(cloud: SimBackend) -> None:
    save = cloud.run("network1", QROUTER + "iptables-save").output
    assert "-A neutron-l3-agent-PREROUTING -d 169.254.169.254/32 -i qr-+ -p tcp -m tcp --dport 80 -j REDIRECT " \
           "--to-ports 9697" in save
    assert "-A neutron-l3-agent-INPUT -m mark --mark 0x1/0xffff -j ACCEPT" in save
    assert "-A neutron-l3-agent-INPUT -p tcp -m tcp --dport 9697 -j DROP" in save
    # the proxy's port is closed to what the redirect did not mark
    r = cloud.run("internet", "curl -s -m 2 -o /dev/null -w %{http_code} http://198.51.100.2:9697/")
    assert r.status == 28
    pid = cloud.run("network1", "cat /var/lib/neutron/external/pids/*.pid").output.strip()
    assert cloud.run("network1", f"ps -p {pid} -o comm=").output.strip() == "neutron-ns-meta"


def test_answers_by_source_address() -> None:
    inst = {"10.0.0.3": {"uuid": "u", "name": "vm1", "db_id": 26, "project_id": "p", "flavor": "m1.small",
                         "availability_zone": "nova", "local_ipv4": "10.0.0.3", "public_ipv4": "",
                         "security_groups": ["default", "web"], "random_seed": "x", "reservation_id": "r-0a1b2c3d",
                         "links": []}}
    assert answer(inst, "10.0.0.3", "/latest/meta-data/instance-id") == (200, "text/plain; charset=UTF-8", "i-0000001a")
    assert answer(inst, "10.0.0.3", "/latest/meta-data/security-groups")[2] == "default\nweb"
    assert answer(inst, "10.0.0.3", "/latest/meta-data/block-device-mapping/")[2] == "ami\nroot"
    assert answer(inst, "10.0.0.3", "/latest")[2] == "meta-data/"
    assert answer(inst, "10.0.0.9", "/latest/meta-data/instance-id") == (404, "text/html; charset=UTF-8", NOT_FOUND)
    assert response(inst, "10.0.0.3", b"POST / HTTP/1.1\r\n\r\n").startswith(b"HTTP/1.1 405 Method Not Allowed\r\n")
    assert response(inst, "10.0.0.3", b"garbage\r\n\r\n").startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert response(inst, "10.0.0.3", b"HEAD /latest HTTP/1.1\r\n\r\n").endswith(b"Content-Length: 10\r\n"
                                                                               b"Connection: close\r\n\r\n")


@pytest.mark.parametrize("args, status, err", [
    ("--router_id", 2, "neutron-ns-metadata-proxy: error: argument --router_id: expected one argument\n"),
    ("--metadata_port=9697", 2, "neutron-ns-metadata-proxy: error: --router_id is required"),
    ("--router_id=r --metadata_port=http", 2, "neutron-ns-metadata-proxy: error: invalid --metadata_port http\n"),
    ("--router_id=r --debug", 2, "netplex: neutron-ns-metadata-proxy --debug is not supported\n"),
    ("--router_id=nope", 1, "neutron-ns-metadata-proxy: /var/lib/neutron/metadata/nope.json: no instance data\n"),
])
def test_proxy_refusals(cloud: SimBackend, args: str, status: int, err: str) -> None:
    r = cloud.run("network1", f"neutron-ns-metadata-proxy {args}")
    assert (r.status, r.output) == (status, "") and r.error.startswith(err), r
