#pragma once
// Everything a training loop needs from the optimizer layer: one include.
#include "optim/adam.h"
#include "optim/clip_grad.h"
#include "optim/lr_schedule.h"
#include "optim/sgd.h"
#include "optim/shampoo.h"
