"""Chinese for the short "why" lines of the graded tests (``--lang zh``), keyed by the exact English.

A line missing here is shown in English; expected/seen values are never translated.
Chapter 03 first (the issue-16 walk-through); other chapters add theirs the same way.
"""

from __future__ import annotations

WHY_ZH: dict[str, str] = {
    # ---- chapter 03: masks (§1)
    "the response is the right-most response_length columns of attention_mask":
        "响应是 attention_mask 最右边的 response_length 列",
    "1 up to and including the first EOS, 0 after it (the EOS token itself is kept)":
        "直到第一个 EOS（含）为 1，之后为 0（EOS 本身保留）",
    "only the FIRST EOS of a row matters": "每行只有第一个 EOS 起作用",
    "with a list, the first token that is ANY of the ids ends the response (rows 3 and 5 end on id 2)":
        "给定列表时，第一个属于其中任一 id 的 token 结束响应（第 3、5 行在 id 2 处结束）",
    "masked positions must not reach the result: select with torch.where (0 * inf and 0 * nan are NaN)":
        "被掩码的位置不能影响结果：用 torch.where 选择（0 * inf 和 0 * nan 都是 NaN）",
    "values * mask turns inf into NaN; select with torch.where first":
        "values * mask 会把 inf 变成 NaN；先用 torch.where 选择",
    "unbiased by default: multiply the masked population variance by n / (n - 1), n = mask.sum()":
        "默认无偏：把掩码总体方差乘以 n / (n - 1)，n = mask.sum()",
    "population variance: the masked mean of squared deviations from the masked mean":
        "总体方差：相对掩码均值的平方偏差的掩码均值",
    "the statistics must come from valid positions only (masked_mean / masked_var)":
        "统计量只能来自有效位置（masked_mean / masked_var）",
    "mean and unbiased variance over the VALID positions only, then (values - mean) * rsqrt(var + 1e-8)":
        "只在有效位置上求均值和无偏方差，再算 (values - mean) * rsqrt(var + 1e-8)",
    "divide by the square root of the UNBIASED masked variance": "除以无偏掩码方差的平方根",
    "shift_mean=False only rescales: add the masked mean back after scaling":
        "shift_mean=False 只做缩放：缩放后把掩码均值加回去",
    "log-softmax over the LAST dimension (the vocabulary), then pick each label's entry":
        "在最后一维（词表）上做 log-softmax，再取每个 label 对应的项",
    "exp(1e4) overflows and softmax underflows to 0 (log 0 = -inf): use log_softmax or logits - logsumexp":
        "exp(1e4) 会溢出，softmax 会下溢为 0（log 0 = -inf）：用 log_softmax 或 logits - logsumexp",
    "H = -sum p log p over the vocabulary (last dim); entropy is never negative":
        "H = -Σ p log p，在词表（最后一维）上求和；熵永远不为负",
    "p underflows to 0 and 0 * log 0 = 0 * -inf = NaN: use logsumexp(z) - sum(p * z)":
        "p 下溢为 0 时 0 * log 0 = 0 * -inf = NaN：用 logsumexp(z) - Σ(p * z)",
    # ---- chapter 03: advantages (§2)
    "returns = advantages BEFORE whitening + values; a masked token carries nextvalues and lastgaelam through "
    "unchanged (the golden batch has holes inside responses)":
        "returns = 白化之前的 advantages + values；被掩码的 token 原样传递 nextvalues 和 lastgaelam"
        "（标准数据的响应内部有空洞）",
    "if returns match, check the whitening: mean and unbiased var over valid tokens of the whole batch":
        "如果 returns 对了，检查白化：在整个批次的有效 token 上求均值和无偏方差",
    "a token before a hole must see past it: delta uses the value of the next *valid* token":
        "空洞之前的 token 要越过空洞：delta 用下一个*有效* token 的 value",
    "whiten with masked_whiten over the valid tokens only (unbiased variance)":
        "只在有效 token 上用 masked_whiten 白化（无偏方差）",
    "rewards and values on masked tokens (padding, tool output) must not change any valid token":
        "被掩码 token（填充、工具输出）上的 reward 和 value 不能改变任何有效 token",
    "advantages are whitened (masked_whiten) over the valid tokens of the whole batch":
        "advantages 在整个批次的有效 token 上白化（masked_whiten）",
    "advantages are whitened with the unbiased variance over valid tokens":
        "advantages 用有效 token 上的无偏方差白化",
    "convention: per group (same uid, anywhere in the batch), (score - mean) / (unbiased std + epsilon); "
    "a group of one: mean 0, std 1; broadcast × response_mask":
        "约定：按组（uid 相同，在批次中任意位置）计算 (score - mean) / (无偏 std + epsilon)；"
        "只有一个成员的组：mean 0、std 1；广播后 × response_mask",
    "convention: with norm_adv_by_std_in_grpo=False the advantage is score - group mean":
        "约定：norm_adv_by_std_in_grpo=False 时 advantage 是 score - 组均值",
    "convention: divide by (std + epsilon) with the epsilon given": "约定：除以 (std + epsilon)，epsilon 用传入的值",
    "convention: unbiased std (n - 1); singleton group: mean 0, std 1; × response_mask":
        "约定：无偏 std（n - 1）；单成员组：mean 0、std 1；× response_mask",
    "GRPO has no critic: returns are the advantages": "GRPO 没有 critic：returns 就是 advantages",
    "RLOO has no critic: returns are the advantages": "RLOO 没有 critic：returns 就是 advantages",
    "returns are the advantages": "returns 就是 advantages",
    "the same groups as the golden batch, labelled with ints instead of strings":
        "与标准数据相同的分组，只是用整数而不是字符串作标签",
    "the golden batch with its rows reshuffled (the responses of one uid are no longer neighbours)":
        "打乱行顺序后的标准数据（同一 uid 的响应不再相邻）",
    "group by uid value, never by position in the batch": "按 uid 的值分组，而不是按在批次中的位置",
    "divide by the group's unbiased std (torch.std) + epsilon": "除以组的无偏 std（torch.std）+ epsilon",
    "the epsilon argument is added to the group's std": "参数 epsilon 加在组的 std 上",
    "score minus the mean of the OTHER responses of its group: (n * score - group sum) / (n - 1)":
        "score 减去同组*其他*响应的均值：(n * score - 组内和) / (n - 1)",
    "the baseline leaves the response itself out: mean of the n - 1 others; a singleton keeps its score":
        "基线不含响应自身：其余 n - 1 个的均值；单成员组保留原 score",
    "discounted return-to-go, right to left; a masked token passes the running return through unchanged and "
    "gets return 0 (the golden batch has holes inside responses)":
        "从右到左的折扣回报；被掩码的 token 原样传递累计回报，自身 return 为 0（标准数据的响应内部有空洞）",
    "a masked token's reward is never added to the running return": "被掩码 token 的 reward 永远不加进累计回报",
    "skip the masked token: don't add its reward, don't reset the running return, store 0 there":
        "跳过被掩码的 token：不加它的 reward，不重置累计回报，该位置存 0",
    "whiten the returns over the valid tokens of the whole batch (not per response), then × mask":
        "在整个批次的有效 token 上（不是逐个响应）白化 returns，再 × mask",
    "masked_whiten(returns, mask) (unbiased variance), then multiply by the mask":
        "masked_whiten(returns, mask)（无偏方差），再乘以 mask",
    "advantages = returns - reward_baselines on valid tokens (the baseline times the mask)":
        "advantages = returns - reward_baselines，只在有效 token 上（基线乘以掩码）",
    "alpha · (score - group mean) / f_norm, alpha = bs / max(1, responses with a non-zero score)":
        "alpha · (score - 组均值) / f_norm，alpha = bs / max(1, score 非零的响应数)",
    "config['norm_adv_by_std_in_grpo'] is False: r_max - r_second_max, no division":
        "config['norm_adv_by_std_in_grpo'] 为 False：r_max - r_second_max，不做除法",
    "divide by f_norm": "除以 f_norm",
    "group-mean baseline first, then one whitening over the batch's valid tokens":
        "先减组均值基线，再在批次的有效 token 上做一次白化",
    "only each group's best response gets (r_max - r_second_max) / (unbiased std + epsilon); the rest 0":
        "每组只有最好的响应得到 (r_max - r_second_max) / (无偏 std + epsilon)；其余为 0",
    "returns[t] = Σ of rewards·mask from t to the end (undiscounted; masked rewards do not count)":
        "returns[t] = 从 t 到结尾的 rewards·mask 之和（不折扣；被掩码的 reward 不计）",
    "score minus its group's mean (a group of one: 0), on every valid token, then whitened over all valid tokens "
    "of the batch (unbiased variance), then 0 on masked tokens":
        "score 减去组均值（单成员组：0），放到每个有效 token 上，再在批次所有有效 token 上白化（无偏方差），"
        "被掩码 token 上为 0",
    "score minus the group's length-weighted mean score Σ len·score / Σ len (a group of one: 0), len = valid "
    "tokens of the response":
        "score 减去组内按长度加权的平均 score Σ len·score / Σ len（单成员组：0），len = 响应的有效 token 数",
    "the alpha argument is ignored: verl recomputes alpha from the batch":
        "参数 alpha 被忽略：verl 根据批次重新计算 alpha",
    "the baseline is subtracted on valid tokens only": "基线只在有效 token 上减去",
    "the baseline weighs each score by its response's length (a plain mean gives 0.5)":
        "基线按响应长度给每个 score 加权（简单平均会得到 0.5）",
    "the best response gets r_max - r_second_max; a tie at the top gives 0":
        "最好的响应得到 r_max - r_second_max；最高分并列时为 0",
    "the masked reward 5 is ignored; no discount": "被掩码的 reward 5 被忽略；不折扣",
    "verl reads norm_adv_by_std_in_grpo from config and ignores the keyword of the same name":
        "verl 从 config 读取 norm_adv_by_std_in_grpo，忽略同名的关键字参数",
    # ---- chapter 03: losses (§3)
    "global_counts=False: each micro-batch's loss uses its own counts (dp_size=1, no global counts) and is divided "
    "by num_micro_batches; backward sums per rank, the ranks are averaged":
        "global_counts=False：每个 micro-batch 的损失用自己的计数（dp_size=1，无全局计数），再除以 "
        "num_micro_batches；backward 在每个 rank 内求和，rank 之间取平均",
    "masked mean per sequence (over its valid tokens), then the plain mean over the batch":
        "每个序列在其有效 token 上取掩码均值，再在批次上直接平均",
    "token-mean: sum over valid tokens / number of valid tokens (padding is not a token)":
        "token-mean：有效 token 之和 / 有效 token 个数（填充不算 token）",
    "token-sum: the plain sum over valid tokens (times dp_size)": "token-sum：有效 token 的直接求和（乘以 dp_size）",
    "seq-mean-token-sum: sum each row's valid tokens, then average over the rows that have at least one valid token":
        "seq-mean-token-sum：每行有效 token 求和，再对至少有一个有效 token 的行取平均",
    "seq-mean-token-mean: mean of each row's valid tokens, then average over the rows that have at least one "
    "valid token":
        "seq-mean-token-mean：每行有效 token 取平均，再对至少有一个有效 token 的行取平均",
    "seq-mean-token-sum-norm: seq-mean-token-sum divided by a constant, the padded response length "
    "loss_mask.shape[-1] (Dr. GRPO)":
        "seq-mean-token-sum-norm：seq-mean-token-sum 除以常数，即填充后的响应长度 loss_mask.shape[-1]（Dr. GRPO）",
    "the golden inputs with -1000 instead of 50 where loss_mask is 0":
        "标准输入，但 loss_mask 为 0 处的 50 换成了 -1000",
    "the golden inputs with other values where response_mask is 0": "标准输入，但 response_mask 为 0 处换成了其他值",
    "with global counts the denominator is batch_num_tokens (token-mean) or global_batch_size (seq modes), not "
    "this micro-batch's own count, and the result is multiplied by dp_size; seq-mean-token-sum-norm divides by "
    "loss_scale_factor when it is given":
        "有全局计数时，分母是 batch_num_tokens（token-mean）或 global_batch_size（seq 模式），而不是本 micro-batch "
        "自己的计数，结果再乘以 dp_size；给定 loss_scale_factor 时 seq-mean-token-sum-norm 除以它",
    "0 valid tokens divided by a positive global count is exactly 0": "0 个有效 token 除以正的全局计数，结果正好是 0",
    "as in verl: the local count is 0 and there is no epsilon, so 0 / 0 = NaN":
        "与 verl 一致：本地计数为 0 且没有 epsilon，所以 0 / 0 = NaN",
    "the loss is the negated objective, so PPO's pessimistic min becomes max(-A·r, -A·clip(r)); the dual clip "
    "min(·, -A·clip_ratio_c) applies only where A < 0; then agg_loss(..., **config.global_batch_info)":
        "损失是目标的相反数，所以 PPO 悲观的 min 变成 max(-A·r, -A·clip(r))；双裁剪 min(·, -A·clip_ratio_c) "
        "只用于 A < 0 处；然后 agg_loss(..., **config.global_batch_info)",
    "clamp log_prob - old_log_prob to [-20, 20] before exp, as verl does":
        "与 verl 一样，exp 之前把 log_prob - old_log_prob 截断到 [-20, 20]",
    "the gradient flows through exp(log_prob - old_log_prob) on unclipped tokens only, 0 on padding":
        "梯度只经未被裁剪 token 上的 exp(log_prob - old_log_prob) 回传，填充处为 0",
    "0.5 times the larger (pessimistic) squared error, averaged over the 2 valid tokens; min instead of max gives "
    "0.3125, no 0.5 gives 3.625":
        "较大（悲观）的平方误差乘以 0.5，在 2 个有效 token 上取平均；用 min 代替 max 得 0.3125，漏掉 0.5 得 3.625",
    "vf_loss = 0.5 · agg(max((vpreds - returns)², (clip(vpreds, values ± cliprange_value) - returns)²))":
        "vf_loss = 0.5 · agg(max((vpreds - returns)², (clip(vpreds, values ± cliprange_value) - returns)²))",
    "vf_clipfrac = masked mean of (clipped squared error > unclipped squared error)":
        "vf_clipfrac = （裁剪后的平方误差 > 未裁剪的平方误差）的掩码均值",
    "padding must not count in vf_loss or vf_clipfrac": "填充不能计入 vf_loss 或 vf_clipfrac",
    "entropy of each valid token, averaged over the valid tokens": "每个有效 token 的熵，在有效 token 上取平均",
    "aggregate with response_mask: padding tokens have no entropy to count":
        "用 response_mask 聚合：填充 token 的熵不计入",
    "per-token entropy H = logsumexp(z) - Σ softmax(z)·z, then agg_loss with the response mask":
        "逐 token 熵 H = logsumexp(z) - Σ softmax(z)·z，再用响应掩码做 agg_loss",
    "the ratio is the sequence's geometric mean exp(0.3) = 1.35, clipped to 1.2":
        "比值是序列的几何平均 exp(0.3) = 1.35，裁剪到 1.2",
    "value exp(sequence mean log-ratio), gradient through each token's own log_prob: log_prob - "
    "log_prob.detach() + mean.detach() (a token's own exp(0.2) would give 0.61 here)":
        "值是 exp(序列平均 log 比值)，梯度经每个 token 自己的 log_prob 回传：log_prob - log_prob.detach() + "
        "mean.detach()（若用 token 自己的 exp(0.2)，这里会得到 0.61）",
    "the clipped ratio is a detached weight: the gradient is -w·A/n on every token, clipped or not":
        "裁剪后的比值是 detach 的权重：每个 token 的梯度都是 -w·A/n，无论是否被裁剪",
    "-A · log_prob, no ratio: old_log_prob plays no part": "-A · log_prob，没有比值：old_log_prob 不参与",
    "verl takes the plain mean over all bs rows, empty ones included": "verl 对全部 bs 行直接取平均，空行也算在内",
    "only the token with the largest advantage × log-prob covariance gets + ppo_kl_coef · |d|":
        "只有 advantage × log-prob 协方差最大的 token 加上 ppo_kl_coef · |d|",
    "verl must accept the run as composed (batch sizes, the critic's settings)":
        "verl 必须接受组合出的这次运行（批大小、critic 的设置）",
    "gae needs a critic; verl's default critic.model.path is not your model":
        "gae 需要 critic；verl 默认的 critic.model.path 不是你的模型",
    # ---- chapter 03: KL (§4)
    "k1 = logprob - ref_logprob": "k1 = logprob - ref_logprob",
    "abs = |logprob - ref_logprob|": "abs = |logprob - ref_logprob|",
    "k2 = 0.5 · (logprob - ref_logprob)²": "k2 = 0.5 · (logprob - ref_logprob)²",
    "k3 = exp(x) - x - 1 with x = ref_logprob - logprob clamped to [-20, 20]; the result clamped to [-10, 10]":
        "k3 = exp(x) - x - 1，其中 x = ref_logprob - logprob 截断到 [-20, 20]；结果截断到 [-10, 10]",
    "clamp x = ref - logprob to [-20, 20] before exp, and the result to [-10, 10]":
        "exp 之前把 x = ref - logprob 截断到 [-20, 20]，结果截断到 [-10, 10]",
    "value of the estimator, gradient of k2: k2 - k2.detach() + estimator.detach()":
        "值取估计器的，梯度取 k2 的：k2 - k2.detach() + estimator.detach()",
    "straight-through changes the gradient, never the value": "直通（straight-through）只改变梯度，从不改变值",
    "the gradient of any '+' estimator is k2's: logprob - ref_logprob":
        "任何带 '+' 的估计器的梯度都是 k2 的：logprob - ref_logprob",
    "k2's gradient to ref_logprob is ref_logprob - logprob": "k2 对 ref_logprob 的梯度是 ref_logprob - logprob",
    "without a '+' the gradient is the estimator's own gradient": "不带 '+' 时，梯度就是估计器自己的梯度",
    "rewards = scores - kl_coef · (kl estimate × response_mask): a penalty is subtracted, and padding is not "
    "penalised":
        "rewards = scores - kl_coef · (KL 估计 × response_mask)：惩罚是减去的，填充不受惩罚",
    "subtract kl_coef · KL on valid tokens only; padded positions keep their score":
        "只在有效 token 上减去 kl_coef · KL；填充位置保留原 score",
    "current_kl = mean over the batch of each sequence's masked mean KL (empty rows count as 0)":
        "current_kl = 各序列 KL 掩码均值在批次上的平均（空行按 0 计）",
    "value *= 1 + clip(current_kl / target - 1, -0.2, 0.2) · n_steps / horizon":
        "value *= 1 + clip(current_kl / target - 1, -0.2, 0.2) · n_steps / horizon",
    "a fixed controller never changes its value": "固定控制器的值永远不变",
    "update() of a fixed controller does nothing": "固定控制器的 update() 什么都不做",
    # ---- chapter 03: importance sampling (§5)
    "weight = min(exp(old_log_prob - rollout_log_prob), threshold): π_old / π_rollout, capped from above":
        "weight = min(exp(old_log_prob - rollout_log_prob), threshold)：π_old / π_rollout，从上方截断",
    "the ratio is π_old / π_rollout = exp(old_log_prob - rollout_log_prob)":
        "比值是 π_old / π_rollout = exp(old_log_prob - rollout_log_prob)",
    "clamp old_log_prob - rollout_log_prob to [-20, 20] (verl's SAFETY_BOUND) before exp":
        "exp 之前把 old_log_prob - rollout_log_prob 截断到 [-20, 20]（verl 的 SAFETY_BOUND）",
    "truncate at the `threshold` argument, not at a fixed 2.0": "按参数 `threshold` 截断，而不是固定的 2.0",
    "padding weights must be exactly 0 whatever the log-probs there (inf * 0 is NaN)":
        "无论填充处的 log-prob 是什么，填充的权重都必须正好是 0（inf * 0 是 NaN）",
    "the IS weights rescale each token's loss and must be constants: .detach() them":
        "IS 权重只是缩放每个 token 的损失，必须是常数：对它们 .detach()",
}
