package dev.resa.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;

/** Losses on logits, all computed in the logits' dtype (fp32 or fp64 for gradient checks). */
public final class Losses {
  private Losses() {}

  /**
   * Mean next-token cross-entropy. {@code logits} [B, T, V], {@code targets} [B, T] int64, {@code mask} [B, T]
   * (1 = count this position) or null for all positions.
   */
  public static NDArray crossEntropy(NDArray logits, NDArray targets, NDArray mask) {
    NDArray logp = logits.logSoftmax(-1); // [B, T, V]
    NDArray nll = logp.gather(targets.expandDims(-1), -1).squeeze(-1).neg(); // [B, T]
    if (mask == null) return nll.mean();
    NDArray m = mask.toType(nll.getDataType(), false);
    return nll.mul(m).sum().div(m.sum().maximum(1));
  }

  /**
   * KL(teacher ‖ student) summed over rows and vocabulary, {@code Σ_n w_n Σ_v p_T (log p_T − log q_S)} with
   * {@code p_T = softmax(xT · headᵀ)} and {@code q_S = softmax(xS · headᵀ)}: SAE-Tuning's loss
   * ({@code kl_div(log q, p, reduction="sum")}) computed from the final hidden states, {@code chunk} rows at a time.
   *
   * <p>Why: at real scale the logits are [2 × 2048, 151,936], 2.5 GB each in fp32, and the unchunked loss keeps
   * five of them (teacher logits, log p, p, student log q, its gradient) alive at once. Here each chunk's logits
   * are made, used and freed; the gradient with respect to the student's logits is the closed form
   * {@code w_n (q_S Σ_v p_T − p_T)} (what autograd's log-softmax backward computes), pulled back through the head
   * to a [N, D] gradient on {@code xS}. The returned scalar carries the KL as its value and that gradient through
   * {@code xS} (a surrogate {@code Σ xS·G − stop(Σ xS·G) + KL}), so {@code backward} continues into the model.
   *
   * @param xT teacher's final normed hidden states [N, D]; never differentiated.
   * @param xS student's final normed hidden states [N, D]; the gradient flows back through it.
   * @param head the LM head [V, D]; treated as frozen (it must not require a gradient).
   * @param rowWeights per-row weights [N] (1 = real token, 0 = padding), or null for all ones.
   * @param chunk rows per chunk; memory is about 8 × chunk × V floats.
   */
  public static NDArray klChunked(NDArray xT, NDArray xS, NDArray head, NDArray rowWeights, int chunk) {
    if (chunk <= 0) throw new IllegalArgumentException("chunk must be positive, got " + chunk);
    if (head.hasGradient()) throw new IllegalArgumentException("klChunked treats the LM head as frozen, but it requires a gradient");
    long n = xS.getShape().get(0);
    if (xT.getShape().get(0) != n) throw new IllegalArgumentException("teacher has " + xT.getShape() + " rows, student " + xS.getShape());
    NDManager out = xS.getManager();
    NDArray student = xS.stopGradient(); // [N, D], the chunks read this detached copy
    NDArray teacher = xT.stopGradient();
    NDList grads = new NDList();
    NDArray kl = null;
    for (long start = 0; start < n; start += chunk) {
      long end = Math.min(n, start + chunk);
      try (NDManager scope = out.newSubManager()) {
        student.tempAttach(scope);
        teacher.tempAttach(scope);
        NDIndex rows = new NDIndex("{}:{}", start, end);
        NDArray logP = linear(teacher.get(rows), head).logSoftmax(-1); // [c, V]
        NDArray p = logP.exp();
        NDArray logQ = linear(student.get(rows), head).logSoftmax(-1); // [c, V]
        NDArray perRow = p.mul(logP.sub(logQ)).sum(new int[] {-1}); // [c]
        NDArray gz = logQ.exp().mul(p.sum(new int[] {-1}, true)).sub(p); // [c, V]: d KL / d student logits
        if (rowWeights != null) {
          NDArray w = rowWeights.get(rows).toType(perRow.getDataType(), false); // [c]
          perRow = perRow.mul(w);
          gz = gz.mul(w.expandDims(-1));
        }
        NDArray gx = gz.matMul(head); // [c, D]: back through logits = x · headᵀ
        NDArray part = perRow.sum();
        gx.attach(out);
        part.attach(out);
        grads.add(gx);
        if (kl == null) {
          kl = part;
        } else {
          NDArray next = kl.add(part);
          next.attach(out);
          kl = next;
        }
      }
    }
    NDArray g = NDArrays.concat(grads, 0); // [N, D]
    NDArray surrogate = xS.mul(g).sum(); // its gradient w.r.t. xS is exactly g
    return surrogate.sub(surrogate.stopGradient()).add(kl); // value: KL
  }

  /** The same KL computed in one piece through full [N, V] logits: the obviously-correct reference. */
  public static NDArray klUnchunked(NDArray xT, NDArray xS, NDArray head, NDArray rowWeights) {
    NDArray logP = linear(xT.stopGradient(), head).logSoftmax(-1); // [N, V]
    NDArray logQ = linear(xS, head).logSoftmax(-1); // [N, V]
    NDArray perRow = logP.exp().mul(logP.sub(logQ)).sum(new int[] {-1}); // [N]
    return rowWeights == null ? perRow.sum() : perRow.mul(rowWeights.toType(perRow.getDataType(), false)).sum();
  }

  private static NDArray linear(NDArray x, NDArray weight) {
    return x.getNDArrayInternal().linear(x, weight, null).singletonOrThrow(); // x Wᵀ
  }
}
