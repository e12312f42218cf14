# GPAW build configuration for nhm's set-up (scripts/setup.sh passes it as GPAW_CONFIG).
# GPAW's setup.py exec()s this file with its defaults in scope (libraries = ['xc'], ...).
#
# Why each line (measured with GPAW 26.7.0 on Debian 12, gcc 12):
# * compiler = 'g++': GPAW 26 compiles its .c sources as C++ (-std=c++17). Without a siteconfig the
#   Python default `gcc` compiles them as C and fails on `#include <algorithm>`. 'gcc' here selects
#   GPAW's deprecated legacy C build (also works today, removed in the next GPAW version).
# * mpi = False: serial build. With an mpic++ on PATH GPAW would otherwise switch to MPI and fail to
#   link without a full MPI stack; nhm runs one small cell per process and needs no MPI.
# * BLAS, FFTW, libxc from Debian (libopenblas-dev, libfftw3-dev, libxc-dev).
# * noblas = nolibxc = False: skip GPAW's link probes, which on failure only warn and silently build
#   without BLAS or libxc; with these set a missing library fails the build instead.

compiler = 'g++'
mpi = False
fftw = True
libraries += ['fftw3', 'openblas']  # noqa: F821 - defined by GPAW's setup.py
noblas = False
nolibxc = False
