"""The sysctl keys netplex models for one namespace (/proc/sys/net/...).

Values are kept as the strings /proc shows; writes are validated the way the
kernel's proc handlers validate them (integers, ranges), and a write to an
unknown key fails as `sysctl` reports it. Per-device keys
(`net.ipv4.conf.DEV.*`, `net.ipv4.neigh.DEV.*`) appear and vanish with their
device; `net.ipv4.ip_forward` and `net.ipv4.conf.all.forwarding` set every
device's `forwarding`, as devinet's forwarding handler does.
"""
from __future__ import annotations

import errno
from sys import intern
from typing import TYPE_CHECKING

from netplex.errors import NetplexError

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

# key: (default, min, max); None bounds mean any integer; a str default with no bounds is free text.
GLOBAL_KEYS: dict[str, tuple[str, int | None, int | None]] = {
    "net.ipv4.ip_forward": ("0", -2147483648, 2147483647),
    "net.ipv4.ip_forward_use_pmtu": ("0", None, None),
    "net.ipv4.ip_default_ttl": ("64", 1, 255),
    "net.ipv4.ip_no_pmtu_disc": ("0", 0, 3),
    "net.ipv4.ip_local_port_range": ("32768\t60999", None, None),
    "net.ipv4.icmp_echo_ignore_all": ("0", 0, 1),
    "net.ipv4.icmp_echo_ignore_broadcasts": ("1", 0, 1),
    "net.ipv4.icmp_ignore_bogus_error_responses": ("1", 0, 1),
    "net.ipv4.icmp_errors_use_inbound_ifaddr": ("0", 0, 1),
    "net.ipv4.icmp_ratelimit": ("1000", 0, None),
    "net.ipv4.icmp_ratemask": ("6168", 0, None),
    "net.ipv4.icmp_msgs_per_sec": ("1000", 0, None),
    "net.ipv4.icmp_msgs_burst": ("50", 0, None),
    "net.ipv4.tcp_syn_retries": ("6", 1, 127),
    "net.ipv4.tcp_synack_retries": ("5", 0, None),
    "net.ipv4.tcp_retries2": ("15", 0, None),
    "net.ipv4.tcp_fin_timeout": ("60", None, None),
    "net.ipv4.tcp_timestamps": ("1", 0, 2),
    "net.ipv4.tcp_window_scaling": ("1", 0, 1),
    "net.ipv4.tcp_sack": ("1", 0, 1),
    "net.ipv4.tcp_congestion_control": ("cubic", None, None),
    # min, default (a new socket's sk_sndbuf), max (what send-buffer autotuning may reach)
    "net.ipv4.tcp_wmem": ("4096\t16384\t4194304", None, None),
    "net.ipv4.ping_group_range": ("1\t0", None, None),
    "net.ipv4.fib_multipath_hash_policy": ("0", 0, 3),
    "net.ipv4.fib_multipath_hash_seed": ("0", 0, 4294967295),
    "net.ipv4.fib_multipath_hash_fields": ("7", 1, 0xFFF),
    "net.core.somaxconn": ("4096", 0, None),
    "net.core.wmem_default": ("212992", 4608, 2147483647),
    "net.core.wmem_max": ("212992", 4608, 2147483647),
    "net.netfilter.nf_conntrack_tcp_be_liberal": ("0", 0, 1),
    "net.netfilter.nf_conntrack_tcp_loose": ("1", 0, 1),
    "net.netfilter.nf_conntrack_tcp_ignore_invalid_rst": ("0", 0, 1),
    "net.bridge.bridge-nf-call-iptables": ("1", 0, 1),
    "net.bridge.bridge-nf-call-arptables": ("1", 0, 1),
    "net.bridge.bridge-nf-call-ip6tables": ("1", 0, 1),
}

_INT = (-2147483648, 2147483647)

# devinet_vars: every net.ipv4.conf.* key is handled by devinet_conf_proc, a plain proc_dointvec — any
# int is stored, no range is checked (rp_filter 9 reads as loose, arp_ignore 9 as its highest level)
CONF_KEYS: dict[str, tuple[str, int | None, int | None]] = {
    "forwarding": ("0", *_INT),
    "rp_filter": ("0", *_INT),
    "accept_local": ("0", *_INT),
    "accept_redirects": ("1", *_INT),
    "send_redirects": ("1", *_INT),
    "secure_redirects": ("1", *_INT),
    "shared_media": ("1", *_INT),
    "src_valid_mark": ("0", *_INT),
    "proxy_arp": ("0", *_INT),
    "arp_ignore": ("0", *_INT),
    "arp_announce": ("0", *_INT),
    "arp_accept": ("0", *_INT),
    "arp_filter": ("0", *_INT),
    "arp_evict_nocarrier": ("1", *_INT),
    "promote_secondaries": ("0", *_INT),
    "bc_forwarding": ("0", *_INT),
    "mc_forwarding": ("0", *_INT),
    "route_localnet": ("0", *_INT),
    "log_martians": ("0", *_INT),
    "disable_policy": ("0", *_INT),
    "disable_xfrm": ("0", *_INT),
    "ignore_routes_with_linkdown": ("0", *_INT),
}

NEIGH_KEYS: dict[str, tuple[str, int | None, int | None]] = {
    "base_reachable_time_ms": ("30000", 0, None),
    "retrans_time_ms": ("1000", 0, None),
    "delay_first_probe_time": ("5", 0, None),
    "gc_stale_time": ("60", 0, None),
    "mcast_solicit": ("3", 0, None),
    "ucast_solicit": ("3", 0, None),
    "app_solicit": ("0", 0, None),
    "unres_qlen_bytes": ("212992", 0, None),
    "proxy_delay": ("80", 0, None),
    "proxy_qlen": ("64", 0, None),
}

CONF_BOUNDS = {k: (lo, hi) for k, (_, lo, hi) in CONF_KEYS.items()}
NEIGH_BOUNDS = {k: (lo, hi) for k, (_, lo, hi) in NEIGH_KEYS.items()}

# keys shown with the kernel's default whose other values netplex does not model (refused)
NOT_MODELLED = frozenset({"bc_forwarding", "ip_forward_use_pmtu"})
# /proc/sys folders whose entries are device names (which may hold dots: eth0.96)
PER_DEVICE = ("net.ipv4.conf", "net.ipv4.neigh", "net.ipv6.conf", "net.ipv6.neigh", "net.mpls.conf")

# net/mpls/af_mpls.c's mpls_table and mpls_dev_table: there only once mpls_router is loaded
MPLS_KEYS: dict[str, tuple[str, int | None, int | None]] = {
    "net.mpls.platform_labels": ("0", 0, (1 << 20) - 1),
    "net.mpls.ip_ttl_propagate": ("1", 0, 1),
    "net.mpls.default_ttl": ("255", 1, 255),
}


def _int_vector(key: str, value: str, old: str) -> str:
    """proc_dointvec_minmax on a vector (tcp_wmem: extra1 = 1): the integers given replace the
    first ones, the rest keep their values, any beyond the vector are ignored; a non-integer or
    one below 1 is EINVAL."""
    new = old.split()
    try:
        given = [int(v) for v in value.split()[:len(new)]]
    except ValueError:
        raise NetplexError(f"setting key \"{key}\": Invalid argument", errno.EINVAL) from None
    if not given or min(given) < 1:
        raise NetplexError(f"setting key \"{key}\": Invalid argument", errno.EINVAL)
    new[:len(given)] = [str(v) for v in given]
    return "\t".join(new)


class Sysctl:
    """The /proc/sys/net tree of one namespace."""

    def __init__(self, ns: Namespace) -> None:
        self.ns = ns
        self.mpls = False      # the net.mpls keys are in (mpls_router loaded)
        self.rpf_any = False   # some rp_filter key is non-zero (the packet path looks further)
        self.values: dict[str, str] = {k: v[0] for k, v in GLOBAL_KEYS.items()}
        self.bounds: dict[str, tuple[int | None, int | None] | None] = {
            k: (None if v[1] is None and v[2] is None else (v[1], v[2])) for k, v in GLOBAL_KEYS.items()}
        for scope in ("all", "default"):
            self._add_dev_keys(scope, defaults_from=None)

    # -- per-device keys ---------------------------------------------------
    def _add_dev_keys(self, name: str, defaults_from: str | None) -> None:
        # keys interned and bounds shared: every namespace's eth0 holds the same strings (S2's
        # 100,000 hosts)
        for key, (default, _lo, _hi) in CONF_KEYS.items():
            full = intern(f"net.ipv4.conf.{name}.{key}")
            if defaults_from is not None:
                default = self.values[f"net.ipv4.conf.{defaults_from}.{key}"]
                if key == "forwarding":
                    default = self.values["net.ipv4.conf.all.forwarding"]
            self.values[full] = default
            self.bounds[full] = CONF_BOUNDS[key]
        for key, (default, _lo, _hi) in NEIGH_KEYS.items():
            full = intern(f"net.ipv4.neigh.{name}.{key}")
            self.values[full] = default
            self.bounds[full] = NEIGH_BOUNDS[key]

    def add_device(self, name: str) -> None:
        self._add_dev_keys(name, defaults_from="default")
        if self.mpls:
            self._add_mpls_dev(name)

    def _add_mpls_dev(self, name: str) -> None:
        key = intern(f"net.mpls.conf.{name}.input")
        self.values[key] = "0"
        self.bounds[key] = (0, 1)

    def mpls_sync(self) -> None:
        """mpls_net_init and mpls_add_dev: the net.mpls keys appear when mpls_router is loaded."""
        if self.mpls or "mpls_router" not in self.ns.world.kmods:
            return
        self.mpls = True
        for k, (default, lo, hi) in MPLS_KEYS.items():
            self.values[k] = default
            self.bounds[k] = (lo, hi)
        for name in self.ns.devices:
            self._add_mpls_dev(name)

    def inet_add_device(self, name: str) -> None:
        """devinet_sysctl_register for a new in_device (inetdev_init): the IPv4 keys, from `default`."""
        self._add_dev_keys(name, defaults_from="default")

    def inet_remove_device(self, name: str) -> None:
        """devinet_sysctl_unregister (inetdev_destroy): the device's net.ipv4.conf and .neigh keys go."""
        for prefix in (f"net.ipv4.conf.{name}.", f"net.ipv4.neigh.{name}."):
            for k in [k for k in self.values if k.startswith(prefix)]:
                del self.values[k]
                del self.bounds[k]

    def remove_device(self, name: str) -> None:
        for prefix in (f"net.ipv4.conf.{name}.", f"net.ipv4.neigh.{name}.", f"net.mpls.conf.{name}."):
            for k in [k for k in self.values if k.startswith(prefix)]:
                del self.values[k]
                del self.bounds[k]

    def rename_device(self, old: str, new: str) -> None:
        for prefix in ("net.ipv4.conf.", "net.ipv4.neigh.", "net.mpls.conf."):
            for k in [k for k in self.values if k.startswith(f"{prefix}{old}.")]:
                nk = f"{prefix}{new}." + k[len(prefix) + len(old) + 1:]
                self.values[nk] = self.values.pop(k)
                self.bounds[nk] = self.bounds.pop(k)

    # -- access ------------------------------------------------------------
    @staticmethod
    def normalise(key: str) -> str:
        """sysctl accepts both `net.ipv4.ip_forward` and `net/ipv4/ip_forward`."""
        return key.replace("/", ".").strip(".")

    def keys(self) -> list[str]:
        self.mpls_sync()
        return sorted(self.values)

    @staticmethod
    def key_parts(key: str) -> list[str]:
        """The /proc/sys path components of a key: a per-device key's device name may hold dots
        (`net.ipv4.conf.eth0.96.forwarding` is conf/eth0.96/forwarding)."""
        for prefix in PER_DEVICE:
            if key.startswith(prefix + "."):
                dev, _, leaf = key[len(prefix) + 1:].rpartition(".")
                if dev:
                    return [*prefix.split("."), dev, leaf]
        return key.split(".")

    def has(self, key: str) -> bool:
        self.mpls_sync()
        return self.normalise(key) in self.values

    def get(self, key: str) -> str:
        self.mpls_sync()
        key = self.normalise(key)
        try:
            return self.values[key]
        except KeyError:
            path = "/proc/sys/" + "/".join(self.key_parts(key))
            raise NetplexError(f"cannot stat {path}: No such file or directory", errno.ENOENT) from None

    def get_int(self, key: str) -> int:
        return int(self.values[key].split()[0])

    def set(self, key: str, value: str) -> str:
        """Write a value; returns it as /proc now shows it."""
        self.mpls_sync()
        key = self.normalise(key)
        if key not in self.values:
            path = "/proc/sys/" + "/".join(self.key_parts(key))
            raise NetplexError(f"cannot stat {path}: No such file or directory", errno.ENOENT)
        leaf = key.rpartition(".")[2]
        if leaf == "mc_forwarding":   # devinet_conf_proc: only ipmr changes it
            raise NetplexError(f"setting key \"{key}\": Invalid argument", errno.EINVAL)
        if leaf in NOT_MODELLED and value.strip() != self.values[key]:
            raise NetplexError(f"netplex: {leaf} is not modelled: only {self.values[key]} is supported",
                               errno.EOPNOTSUPP)
        bounds = self.bounds.get(key)
        value = value.strip()
        if bounds is not None:
            try:
                n = int(value, 0) if value.lower().startswith(("0x", "-0x")) else int(value)
            except ValueError:
                path = "/proc/sys/" + "/".join(self.key_parts(key))
                raise NetplexError(f"setting key \"{key}\": Invalid argument", errno.EINVAL) from None
            lo, hi = bounds
            if (lo is not None and n < lo) or (hi is not None and n > hi):
                raise NetplexError(f"setting key \"{key}\": Invalid argument", errno.EINVAL)
            value = str(n)
        else:
            if key == "net.ipv4.tcp_wmem":
                value = _int_vector(key, value, self.values[key])
            value = "\t".join(value.split()) if key.endswith(("_range", "group_range")) else value
        old = self.values[key]
        self.values[key] = value
        if leaf == "rp_filter":
            self.rpf_any = any(v != "0" for k, v in self.values.items() if k.endswith(".rp_filter"))
        self._side_effects(key, value, old)
        self.sync_devices()
        self.ns.config_changed()
        return value

    def mc_forwarding(self, name: str, delta: int) -> None:
        """ipmr: MRT_INIT/MRT_DONE count on `all`, vif_add/vif_delete on the VIF's device."""
        key = f"net.ipv4.conf.{name}.mc_forwarding"
        if key in self.values:
            self.values[key] = str(max(0, int(self.values[key]) + delta))

    def sync_devices(self) -> None:
        """Mirror per-device keys the packet path reads on every packet onto the devices."""
        for name, dev in self.ns.devices.items():
            dev.forwarding = self.values.get(f"net.ipv4.conf.{name}.forwarding", "0") != "0"

    def _side_effects(self, key: str, value: str, old: str) -> None:
        if key == "net.mpls.platform_labels":    # resize_platform_label_table: labels beyond go
            for label in [lbl for lbl in self.ns.mpls_routes if lbl >= int(value)]:
                del self.ns.mpls_routes[label]
        if key in ("net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding"):
            self.values["net.ipv4.ip_forward"] = value
            for k in list(self.values):
                if k.startswith("net.ipv4.conf.") and k.endswith(".forwarding"):
                    self.values[k] = value
            if value != old:   # devinet_sysctl_forward → inet_forward_change: a router takes no redirects
                self.values["net.ipv4.conf.all.accept_redirects"] = "0" if int(value) else "1"

    def rp_filter(self, devname: str) -> int:
        """IN_DEV_RPFILTER: IN_DEV_MAXCONF, the larger of `all` and the device's rp_filter."""
        if not self.rpf_any:
            return 0
        v = self.values
        return max(int(v["net.ipv4.conf.all.rp_filter"]), int(v.get(f"net.ipv4.conf.{devname}.rp_filter", "0")))

    def send_redirects(self, devname: str) -> bool:
        """IN_DEV_TX_REDIRECTS: IN_DEV_ORCONF, `all` or the device's send_redirects."""
        return self._orconf(devname, "send_redirects")

    def _orconf(self, devname: str, leaf: str) -> bool:
        """IN_DEV_ORCONF: `all` or the device's key is non-zero."""
        v = self.values
        return v[f"net.ipv4.conf.all.{leaf}"] != "0" or v.get(f"net.ipv4.conf.{devname}.{leaf}", "0") != "0"

    def rx_redirects(self, devname: str) -> bool:
        """IN_DEV_RX_REDIRECTS: accept_redirects of `all` AND the device's on a forwarding device,
        `all` OR the device's otherwise."""
        v = self.values
        mine = v.get(f"net.ipv4.conf.{devname}.accept_redirects", "0") != "0"
        every = v["net.ipv4.conf.all.accept_redirects"] != "0"
        return (mine and every) if self.forwarding(devname) else (mine or every)

    def shared_media(self, devname: str) -> bool:
        """IN_DEV_SHARED_MEDIA (IN_DEV_ORCONF)."""
        return self._orconf(devname, "shared_media")

    def secure_redirects(self, devname: str) -> bool:
        """IN_DEV_SEC_REDIRECTS (IN_DEV_ORCONF)."""
        return self._orconf(devname, "secure_redirects")

    def src_valid_mark(self, devname: str) -> bool:
        """IN_DEV_SRC_VMARK (IN_DEV_ORCONF): the packet's mark is part of the reverse-path lookup."""
        return self._orconf(devname, "src_valid_mark")

    def forwarding(self, devname: str) -> bool:
        return self.values.get(f"net.ipv4.conf.{devname}.forwarding", "0") != "0"
