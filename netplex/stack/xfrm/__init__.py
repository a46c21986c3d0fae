"""IPsec in the stack: the SAD and SPD (`state`), the ESP transforms (`algo`) and
the packet path's hooks (`path`), after the kernel's net/xfrm/ and esp4.c.
See docs/ipsec.md for what is modelled and how it was checked."""
