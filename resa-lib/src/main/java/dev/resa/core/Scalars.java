package dev.resa.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Scalar operands that are safe under autograd.
 *
 * <p>DJL's PyTorch engine implements {@code x.mul(2.0)} (likewise {@code div}, {@code pow}, {@code maximum},
 * {@code minimum} with a {@code Number}) by wrapping the number in a tensor that borrows a Java direct buffer and
 * closing it right away. Autograd keeps that tensor for the backward pass; once the garbage collector frees the
 * buffer, backward reads freed memory and gradients turn into sporadic NaNs (seen here after ~100 training steps).
 * On every differentiable path, pass {@code Scalars.of(x, v)} instead: a 0-d tensor allocated by libtorch itself.
 * ({@code add}/{@code sub} with a number are safe: their backward never reads the operand.)
 */
public final class Scalars {
  private Scalars() {}

  /** A libtorch-owned 0-d tensor holding {@code value}, with {@code like}'s dtype, device and manager. */
  public static NDArray of(NDArray like, double value) {
    return like.getManager().ones(new Shape(), like.getDataType()).muli(value); // in-place: the borrowed operand is not kept
  }

  /** {@code max(x, 0)} through libtorch's relu (whose backward reads only its own output). */
  public static NDArray relu(NDArray x) {
    return x.getNDArrayInternal().relu();
  }
}
