// The default path of all five losses: the fused focal+Dice kernel (kernels/focal_dice.h) wired into
// autograd as one Node. Forward runs pass 1 (loss, terms and the Dice coefficients in a small `stats`
// buffer on the device, and — when the logits require grad — the softmax in the future gradient
// buffer); the Node's backward runs pass 2 over that buffer in place, scaled by the incoming gradient
// read on the device (no host round trip).
#include "engine/dispatch.h"
#include "kernels/focal_dice.h"
#include "losses/internal.h"

namespace sse::losses::detail {
namespace {

class FusedLoss final : public Loss {
 public:
  explicit FusedLoss(const LossConfig& cfg) : Loss(cfg) {}

  Tensor forward(const Tensor& logits, const Tensor& labels, const LossShare& share) override {
    const char* who = "loss (fused)";
    const FocalDiceShape sh = check_inputs(who, logits, labels, cfg_);
    const FocalDiceParams prm = params_of(*this, share);
    const Device dev = logits.device();
    Tensor partials = Tensor::empty(Shape{focal_dice_partials_size(sh)}, DType::F32, dev);
    Tensor stats = Tensor::empty(Shape{focal_dice_stats_size(sh)}, DType::F32, dev);
    // With a backward to come, pass 1 stores the softmax in the buffer that pass 2 turns into the
    // gradient in place (the logits are read once; no other (N, C, ...) tensor exists).
    const bool grad = needs_grad({&logits});
    Tensor buf = grad ? Tensor::empty(logits.shape(), DType::F32, dev) : Tensor();
    SSE_DISPATCH(dev, focal_dice_forward, sh, prm, logits.data<float>(), labels.data<std::int32_t>(),
                 partials.data<float>(), stats.data<float>(), grad ? buf.data<float>() : nullptr);

    float head[kFdHeader];
    copy_bytes(head, Device::cpu(), stats.raw(), dev, sizeof(head));
    if (head[kFdBadLabels] > 0.0f) throw_bad_labels(who, labels, sh.c, cfg_.ignore_index);
    terms_.loss = head[kFdLoss];
    terms_.first = head[kFdFocal];
    terms_.dice_loss = head[kFdDiceLoss];
    terms_.counted = head[kFdCounted];

    // The loss is a rank-0 view of stats[kFdLoss]: no copy, stays on the device.
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = stats.impl().storage;
    impl->offset = stats.impl().offset + kFdLoss;
    impl->shape = Shape{};
    impl->dtype = DType::F32;
    Tensor loss(std::move(impl));

    if (grad) {
      Tensor lab = labels.detach(), st = stats.detach();
      record(loss, "focal_dice_loss", {logits}, [sh, prm, buf, lab, st](const Tensor& g) {
        // The graph is freed after one backward, so the buffer can become the gradient in place.
        SSE_DISPATCH(buf.device(), focal_dice_backward, sh, prm, buf.data<float>(), lab.data<std::int32_t>(),
                     st.data<float>(), g.data<float>(), buf.data<float>());
        return std::vector<Tensor>{buf};
      });
    }
    return loss;
  }
};

}  // namespace

std::unique_ptr<Loss> make_fused(const LossConfig& cfg) { return std::make_unique<FusedLoss>(cfg); }

}  // namespace sse::losses::detail
