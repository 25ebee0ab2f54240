# inventory_ext: PGXS build
#
# The version is written once, as default_version in the control file; the
# install script for it is assembled from the fragments under sql/install/,
# one per capability, in file-name order.

EXTENSION = inventory_ext
EXTVERSION = $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = inventory_ext
OBJS = \
	src/inventory_ext.o \
	src/spi_util.o \
	src/ledger.o \
	src/loader.o \
	src/partition.o \
	src/archive.o \
	src/fifo.o \
	src/reorder.o \
	src/summary.o

DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*--*.sql))

REGRESS = \
	schema \
	ledger \
	loader \
	partition \
	reorder \
	summary \
	fifo \
	scheduling \
	privileges \
	archive
REGRESS_OPTS = --load-extension=$(EXTENSION)

ISOLATION = $(basename $(notdir $(wildcard test/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test --outputdir=output_iso \
	--load-extension=$(EXTENSION)

EXTRA_CLEAN = results output_iso regression.diffs regression.out

PG_CFLAGS = -Wall -Wextra -Werror -Wmissing-prototypes -Wno-unused-parameter \
	-Wno-missing-field-initializers -Wno-sign-compare

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(DATA_built): $(sort $(wildcard sql/install/*.sql)) $(EXTENSION).control
	@echo "building $@"
	@( echo "/* $(EXTENSION) $(EXTVERSION): generated from sql/install/, do not edit */"; \
	   echo; \
	   printf '%s\n' '\echo Use "CREATE EXTENSION $(EXTENSION)" to load this file. \quit'; \
	   for f in $(sort $(wildcard sql/install/*.sql)); do \
	     echo; echo "/* ---- $$f ---- */"; cat $$f; done ) > $@

# META.json must carry the control file's version.
.PHONY: check-version
check-version:
	@grep -q "\"version\": \"$(EXTVERSION)\"" META.json || \
	  { echo "META.json version differs from $(EXTVERSION)"; exit 1; }
