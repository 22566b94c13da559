// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#ifndef __CHECKER__
#define CREATE_TRACE_POINTS
#include "xe_vm_export_trace.h"
#endif
