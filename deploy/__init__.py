"""Running the platform: the image and compose settings beside this package, and the servers a
machine without Docker starts for the distributed topology (`devservers`), used by
`make run-distributed` (local_cluster.py), the benchmarks and the tests alike.

A package installed with the project, not a folder of tests: production code (the local cluster,
the benchmarks) must never import tests/, and what starts a throw-away PostgreSQL and broker is a
deployment concern, like local_cluster.py beside it. It is not in shared/, the kernel the
services import when they run: no service may depend on it, and it imports no service.
"""
