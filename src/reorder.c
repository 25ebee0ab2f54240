/*-------------------------------------------------------------------------
 *
 * reorder.c
 *	  Placeholder: this capability has not landed yet.
 *
 * Copyright (c) 2026, the inventory_ext developers
 *
 * IDENTIFICATION
 *	  src/reorder.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "inventory_ext.h"
