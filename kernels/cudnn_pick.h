// kernels/cudnn_pick.h — how the cuDNN reference path (kernels/cuda/conv3d_cudnn.cu) chooses an
// algorithm from cudnnFind*'s results, as plain data so that it is tested without cuDNN or a GPU.
//
// cudnnFind returns its candidates fastest first, each with a status, a workspace size and a
// determinism flag. The choice is the first that ran, fits the workspace limit and, when
// deterministic results are asked for, is deterministic. When none qualifies the caller falls back
// to sseunet's own kernel for that direction (deterministic, no workspace limit of cuDNN's kind) and
// says so once on stderr with `why`, which names every candidate and what ruled it out: cuDNN 9's
// 3-D backward filter offers one deterministic algorithm (ALGO_1), whose workspace exceeds the limit
// on large layers, so without the fallback `--precision cudnn` training stopped there.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sse {

struct CudnnCandidate {
  int algo = 0;
  bool ran = false;  // status CUDNN_STATUS_SUCCESS
  std::string status;  // cuDNN's status string when it did not run
  std::size_t workspace = 0;
  bool deterministic = false;
};

struct CudnnPick {
  int index = -1;   // into the candidates, −1 when none qualifies
  std::string why;  // when index < 0: one clause per candidate, or "cuDNN returned no algorithm"
};

inline CudnnPick pick_cudnn_candidate(const std::vector<CudnnCandidate>& cands, bool deterministic,
                                      std::size_t workspace_limit) {
  CudnnPick pick;
  for (std::size_t i = 0; i < cands.size(); ++i) {
    const CudnnCandidate& c = cands[i];
    std::string ruled_out;
    if (!c.ran) {
      ruled_out = "did not run (" + c.status + ")";
    } else if (c.workspace > workspace_limit) {
      ruled_out = "needs " + std::to_string(c.workspace >> 20) + " MiB of workspace (limit " +
                  std::to_string(workspace_limit >> 20) + " MiB)";
    } else if (deterministic && !c.deterministic) {
      ruled_out = "is not deterministic";
    } else {
      pick.index = static_cast<int>(i);
      pick.why.clear();
      return pick;
    }
    pick.why += (pick.why.empty() ? "" : "; ") + ("algorithm " + std::to_string(c.algo) + " " + ruled_out);
  }
  if (cands.empty()) pick.why = "cuDNN returned no algorithm";
  return pick;
}

}  // namespace sse
