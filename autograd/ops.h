#pragma once
// Everything a user of the op layer needs: one include.
#include "autograd/backward.h"
#include "autograd/elementwise.h"
#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "tensor/creation.h"
#include "tensor/random.h"
