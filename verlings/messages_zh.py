"""Chinese for the short "why" lines of the graded tests (``--lang zh``), keyed by the exact English.

A line missing here is shown in English; expected/seen values are never translated.
Every chapter's why-lines are here (chapter 03's coverage is checked by tests/test_messages.py).
"""

# ruff: noqa: E501  (CJK characters are two columns wide: ruff format and ruff check measure them differently)

from __future__ import annotations

WHY_ZH: dict[str, str] = {
    # ---- chapter 01
    "EventAccumulator keeps a random 10,000 points per tag unless size_guidance={'scalars': 0}": "除非 size_guidance={'scalars': 0}，EventAccumulator 每个标签只随机保留 10,000 个点",
    "Hydra keeps global state: use initialize_config_dir as a context manager (and GlobalHydra.instance().clear() "
    "first)": "Hydra 有全局状态：把 initialize_config_dir 当作上下文管理器用（并先 GlobalHydra.instance().clear()）",
    "None means nothing was raised. Check the six rules in the docstring's order; T and M count prompts, everything "
    "per GPU counts responses (× n).": "None 表示没有抛出异常。按文档字符串中的顺序检查六条规则；T 和 M 数的是 prompt，每个 GPU 上的量数的是响应（× "
    "n）。",
    "add each stage's returned columns to the batch (rows stay aligned)": "把每个阶段返回的列加进批次（行保持对齐）",
    "an empty frame that still has the three columns": "一个空的 DataFrame，但仍有那三列",
    "compose config_name='ppo_trainer' from verl/trainer/config, unresolved (no resolve=True)": "从 verl/trainer/config 组合 config_name='ppo_trainer'，不解析插值（不要 resolve=True）",
    "each prompt's uid is assigned once, *before* the repeat, so its n responses share it; uid assigned after the "
    "repeat gives every row its own id and GRPO has no groups": "每个 prompt 的 uid 在重复*之前*只分配一次，它的 n 个响应共享它；在重复之后分配会让每行都有自己的 id，GRPO "
    "就没有分组了",
    "each row of the table is one 'key=value' override": "表中每一行是一个 'key=value' 覆盖项",
    "every column is repeated, tensors and numpy arrays alike": "每一列都要重复，张量和 numpy 数组都一样",
    "every stage gets the repeated batch (bs * n rows) with all columns added so far": "每个阶段拿到的是重复后的批次（bs * n 行），带着目前为止加入的所有列",
    "find verl's config folder from the installed package (verl_config_dir()), not the cwd": "从已安装的包中找到 verl 的配置目录（verl_config_dir()），而不是当前目录",
    "interleave=True is the default, as in verl: a prompt's samples sit next to each other": "与 verl 一样默认 interleave=True：同一个 prompt 的样本彼此相邻",
    "last = last*w + (1-w)*v from last=0, divided by (1 - w**count); non-finite values pass through without updating "
    "last or count": "从 last=0 开始 last = last*w + (1-w)*v，再除以 (1 - w**count)；非有限值原样输出，不更新 last 和 count",
    "one optimizer step per mini batch per epoch; a mini batch is M prompts = M*n responses, so n cancels out "
    "(ppo_epochs defaults to 1)": "每个 epoch 每个 mini batch 一步优化；一个 mini batch 是 M 个 prompt = M*n 个响应，所以 n 被约掉（ppo_epochs "
    "默认为 1）",
    "one row per (tag, step): where a step was written twice, keep the point with the largest wall_time — the "
    "resumed run's (steps 3 and 4 are 103 and 104, not 3 and 4)": "每个 (tag, step) 一行：同一步写了两次时，保留 wall_time 最大的点 —— 即恢复后运行的那个（第 3、4 步是 103 和 "
    "104，不是 3 和 4）",
    "only scalars: acc.Tags()['scalars']": "只要标量：acc.Tags()['scalars']",
    "pass the overrides to hydra.compose(..., overrides=overrides) unchanged": "把 overrides 原样传给 hydra.compose(..., overrides=overrides)",
    "repeat interleaved (a, a, b, b) like DataProto.repeat(interleave=True), not a, b, a, b": "像 DataProto.repeat(interleave=True) 那样交错重复（a, a, b, b），而不是 a, b, a, b",
    "reset the index after sorting (reset_index(drop=True))": "排序后重置索引（reset_index(drop=True)）",
    "return a new dict": "返回一个新的 dict",
    "return {**critic_metrics, **actor_metrics}": "返回 {**critic_metrics, **actor_metrics}",
    "the default weight is 0.6; iterate over the values, not the index": "默认 weight 是 0.6；遍历值，而不是索引",
    "train_batch_size counts prompts; each prompt gets rollout_n responses": "train_batch_size 数的是 prompt；每个 prompt 有 rollout_n 个响应",
    "use the columns apply_kl_penalty returned (the fake subtracts 0.25)": "使用 apply_kl_penalty 返回的列（假实现减去了 0.25）",
    "validation must only read the config": "校验只能读取配置",
    "verl accepts this configuration: is a rule using prompts where it should use responses (or the other way "
    "round), or checking the micro batch against the wrong size?": "verl 接受这个配置：是不是某条规则把该用响应数的地方用了 prompt 数（或反过来），或者拿 micro batch "
    "和错误的大小比较了？",
    "verl writes tensorboard_log/<project>/<experiment>/events...: search the folder recursively": "verl 写的是 tensorboard_log/<project>/<experiment>/events...：递归搜索目录",
    "verl's defaults leave the micro batch sizes null and assume 8 GPUs — see the table": "verl 的默认值把 micro batch 大小留空并假定 8 个 GPU —— 见表格",
    "verl's order: generate → reward → old log-prob → ref → values → (KL in reward) → advantage → critic → actor; "
    "skip ref/values/critic/KL when their flag is off": "verl 的顺序：generate → reward → old log-prob → ref → values →（奖励中的 KL）→ advantage → critic → "
    "actor；对应开关关闭时跳过 ref/values/critic/KL",
    "without KL in the reward, the rewards are the scores unchanged": "奖励中没有 KL 时，rewards 就是原样的 scores",
    "work on a copy (dict(batch)); the dataloader's dict is not yours": "在副本上操作（dict(batch)）；dataloader 的 dict 不归你",
    # ---- chapter 02
    "2 = the file cannot be read (catch DataCheckError)": "2 = 文件无法读取（捕获 DataCheckError）",
    "MATH sources go to verl.utils.reward_score.math_reward": "MATH 数据源交给 verl.utils.reward_score.math_reward",
    "[system] + history + [user: question + ' ' + INSTRUCTION] — the history is the context the model answers in; "
    "only the new question gets the instruction": "[system] + history + [user: question + ' ' + INSTRUCTION] —— history 是模型作答的上下文；只有新问题带指令",
    "a bool mask must count like a 0/1 mask (sum it as integers)": "bool 掩码要和 0/1 掩码一样计数（按整数求和）",
    "a dict score's 'score' entry is the reward": "dict 形式的分数，其 'score' 项就是奖励",
    "answers are compared as strings: '72.' != '72'": "答案按字符串比较：'72.' != '72'",
    "build a new list of new dicts: rows are often built from one shared history": "构造由新 dict 组成的新列表：多行常常由同一个共享的 history 构建",
    "columns in file order, as pyarrow lists them": "列按文件中的顺序，与 pyarrow 列出的一致",
    "copy the messages: the result must not share dicts with the input": "复制消息：结果不能和输入共享 dict",
    "data_source, prompt, ability, reward_model, extra_info (+ agent_name for tool rows)": "data_source、prompt、ability、reward_model、extra_info（工具数据行再加 agent_name）",
    "delegate to gsm8k_reward.compute_score and return a float (verl: float(res))": "交给 gsm8k_reward.compute_score，并返回 float（verl：float(res)）",
    "each message is exactly {'role', 'content'}": "每条消息正好是 {'role', 'content'}",
    "exactly one token per row carries the score; the rest are 0": "每行正好一个 token 带分数；其余为 0",
    "extra_info carries the split and the index you were given": "extra_info 带上传入的 split 和 index",
    "flexible = the last match of -?[0-9.,]+ that is not '.'; it keeps the trailing dot": "flexible = -?[0-9.,]+ 的最后一个不是 '.' 的匹配；保留末尾的点",
    "format_score pays for a well-formed but wrong answer; no answer at all scores 0": "格式正确但答错得 format_score；完全没有答案得 0",
    "lengths with the chat template and the generation prompt, as verl counts them": "长度按 verl 的算法：套用聊天模板并加上生成提示",
    "make_row's five keys; the prompt from history_prompt; only the new question is scored, so ground truth and "
    "extra_info.question are the new question's": "make_row 的五个键；prompt 来自 history_prompt；只给新问题评分，所以 ground truth 和 extra_info.question "
    "都是新问题的",
    "nested lists and dicts must stay lists and structs (pyarrow.Table.from_pylist)": "嵌套的列表和 dict 必须保持为 list 和 struct（pyarrow.Table.from_pylist）",
    "no history: a single-turn prompt (a system message only when one is given)": "没有 history：单轮 prompt（只有给定时才有 system 消息）",
    "nothing to drop": "没有要丢弃的",
    "one call per response: data_source, the decoded text, reward_model['ground_truth'], extra_info": "每个响应调用一次：data_source、解码后的文本、reward_model['ground_truth']、extra_info",
    "one column per row key, in the rows' order": "每个行键一列，按行中键的顺序",
    "one entry per response, in batch order": "每个响应一项，按批次顺序",
    "one file-level problem (row None) per missing required column": "每缺一个必需列，报告一个文件级问题（row 为 None）",
    "one line: 'error: <message>'": "一行：'error: <message>'",
    "only dict scores add extra info": "只有 dict 形式的分数会添加额外信息",
    "return None when nothing matched": "没有匹配时返回 None",
    "score if the extracted answer == ground_truth (string equality), else format_score; 0 when nothing was extracted": "提取的答案 == ground_truth（字符串相等）得 score，否则得 format_score；什么都没提取到得 0",
    "split, index, the RAW answer and question (no instruction), plus this style's extras": "split、index、*原始*答案和问题（不带指令），以及该风格的额外字段",
    "take the last match and strip its commas": "取最后一个匹配并去掉其中的逗号",
    "the key 'extra_info' is optional: pass None when it is absent": "键 'extra_info' 是可选的：缺失时传 None",
    "the messages for this style, the instruction appended after one space": "该风格的消息，指令接在一个空格之后",
    "the number after the first '#### ', commas removed": "第一个 '#### ' 之后的数字，去掉逗号",
    "the raw question, without the instruction": "原始问题，不带指令",
    "the score goes on the last real response token, index response_mask.sum() - 1 (an empty response: index -1, the "
    "last column)": "分数放在最后一个真实的响应 token 上，下标 response_mask.sum() - 1（空响应：下标 -1，即最后一列）",
    "total characters of the message contents, per row": "每行消息内容的总字符数",
    "verl drops rows whose prompt it cannot template": "verl 会丢弃无法套用模板的 prompt 所在的行",
    "verl drops rows whose prompt it cannot template (e.g. a plain string prompt)": "verl 会丢弃无法套用模板的 prompt 所在的行（例如纯字符串 prompt）",
    "verl picks the reward function by data_source: it must be exactly 'openai/gsm8k'": "verl 按 data_source 选择奖励函数：必须正好是 'openai/gsm8k'",
    "verl reads the index from extra_info.index (0 when it is missing)": "verl 从 extra_info.index 读取 index（缺失时为 0）",
    "verl reads them from extra_info.tools_kwargs": "verl 从 extra_info.tools_kwargs 读取它们",
    "verl searches only solution_str[-300:]": "verl 只搜索 solution_str[-300:]",
    "verl's filter_overlong_prompts must keep your prompt, and would drop any prompt with one more earlier pair: "
    "fit_history keeps as much history as fits, no more": "verl 的 filter_overlong_prompts 必须保留你的 prompt，而多一对更早的对话就会被丢弃：fit_history "
    "保留放得下的全部历史，不多也不少",
    "verl's pattern '#### (-?[0-9.,]+)' cannot match '$', so no answer is extracted → 0": "verl 的模式 '#### (-?[0-9.,]+)' 匹配不了 '$'，所以提取不到答案 → 0",
    "{'style': 'rule', 'ground_truth': <the answer after ####, commas removed>}": "{'style': 'rule', 'ground_truth': <#### 之后的答案，去掉逗号>}",
    # ---- chapter 03
    "the response is the right-most response_length columns of attention_mask": "响应是 attention_mask 最右边的 response_length 列",
    "1 up to and including the first EOS, 0 after it (the EOS token itself is kept)": "直到第一个 EOS（含）为 1，之后为 0（EOS 本身保留）",
    "only the FIRST EOS of a row matters": "每行只有第一个 EOS 起作用",
    "with a list, the first token that is ANY of the ids ends the response (rows 3 and 5 end on id 2)": "给定列表时，第一个属于其中任一 id 的 token 结束响应（第 3、5 行在 id 2 处结束）",
    "masked positions must not reach the result: select with torch.where (0 * inf and 0 * nan are NaN)": "被掩码的位置不能影响结果：用 torch.where 选择（0 * inf 和 0 * nan 都是 NaN）",
    "values * mask turns inf into NaN; select with torch.where first": "values * mask 会把 inf 变成 NaN；先用 torch.where 选择",
    "unbiased by default: multiply the masked population variance by n / (n - 1), n = mask.sum()": "默认无偏：把掩码总体方差乘以 n / (n - 1)，n = mask.sum()",
    "population variance: the masked mean of squared deviations from the masked mean": "总体方差：相对掩码均值的平方偏差的掩码均值",
    "the statistics must come from valid positions only (masked_mean / masked_var)": "统计量只能来自有效位置（masked_mean / masked_var）",
    "mean and unbiased variance over the VALID positions only, then (values - mean) * rsqrt(var + 1e-8)": "只在有效位置上求均值和无偏方差，再算 (values - mean) * rsqrt(var + 1e-8)",
    "divide by the square root of the UNBIASED masked variance": "除以无偏掩码方差的平方根",
    "shift_mean=False only rescales: add the masked mean back after scaling": "shift_mean=False 只做缩放：缩放后把掩码均值加回去",
    "log-softmax over the LAST dimension (the vocabulary), then pick each label's entry": "在最后一维（词表）上做 log-softmax，再取每个 label 对应的项",
    "exp(1e4) overflows and softmax underflows to 0 (log 0 = -inf): use log_softmax or logits - logsumexp": "exp(1e4) 会溢出，softmax 会下溢为 0（log 0 = -inf）：用 log_softmax 或 logits - logsumexp",
    "H = -sum p log p over the vocabulary (last dim); entropy is never negative": "H = -Σ p log p，在词表（最后一维）上求和；熵永远不为负",
    "p underflows to 0 and 0 * log 0 = 0 * -inf = NaN: use logsumexp(z) - sum(p * z)": "p 下溢为 0 时 0 * log 0 = 0 * -inf = NaN：用 logsumexp(z) - Σ(p * z)",
    "returns = advantages BEFORE whitening + values; a masked token carries nextvalues and lastgaelam through "
    "unchanged (the golden batch has holes inside responses)": "returns = 白化之前的 advantages + values；被掩码的 token 原样传递 nextvalues 和 "
    "lastgaelam（标准数据的响应内部有空洞）",
    "if returns match, check the whitening: mean and unbiased var over valid tokens of the whole batch": "如果 returns 对了，检查白化：在整个批次的有效 token 上求均值和无偏方差",
    "a token before a hole must see past it: delta uses the value of the next *valid* token": "空洞之前的 token 要越过空洞：delta 用下一个*有效* token 的 value",
    "whiten with masked_whiten over the valid tokens only (unbiased variance)": "只在有效 token 上用 masked_whiten 白化（无偏方差）",
    "rewards and values on masked tokens (padding, tool output) must not change any valid token": "被掩码 token（填充、工具输出）上的 reward 和 value 不能改变任何有效 token",
    "advantages are whitened (masked_whiten) over the valid tokens of the whole batch": "advantages 在整个批次的有效 token 上白化（masked_whiten）",
    "advantages are whitened with the unbiased variance over valid tokens": "advantages 用有效 token 上的无偏方差白化",
    "convention: per group (same uid, anywhere in the batch), (score - mean) / (unbiased std + epsilon); a group of "
    "one: mean 0, std 1; broadcast × response_mask": "约定：按组（uid 相同，在批次中任意位置）计算 (score - mean) / (无偏 std + epsilon)；只有一个成员的组：mean "
    "0、std 1；广播后 × response_mask",
    "convention: with norm_adv_by_std_in_grpo=False the advantage is score - group mean": "约定：norm_adv_by_std_in_grpo=False 时 advantage 是 score - 组均值",
    "convention: divide by (std + epsilon) with the epsilon given": "约定：除以 (std + epsilon)，epsilon 用传入的值",
    "convention: unbiased std (n - 1); singleton group: mean 0, std 1; × response_mask": "约定：无偏 std（n - 1）；单成员组：mean 0、std 1；× response_mask",
    "GRPO has no critic: returns are the advantages": "GRPO 没有 critic：returns 就是 advantages",
    "RLOO has no critic: returns are the advantages": "RLOO 没有 critic：returns 就是 advantages",
    "returns are the advantages": "returns 就是 advantages",
    "the same groups as the golden batch, labelled with ints instead of strings": "与标准数据相同的分组，只是用整数而不是字符串作标签",
    "the golden batch with its rows reshuffled (the responses of one uid are no longer neighbours)": "打乱行顺序后的标准数据（同一 uid 的响应不再相邻）",
    "group by uid value, never by position in the batch": "按 uid 的值分组，而不是按在批次中的位置",
    "divide by the group's unbiased std (torch.std) + epsilon": "除以组的无偏 std（torch.std）+ epsilon",
    "the epsilon argument is added to the group's std": "参数 epsilon 加在组的 std 上",
    "score minus the mean of the OTHER responses of its group: (n * score - group sum) / (n - 1)": "score 减去同组*其他*响应的均值：(n * score - 组内和) / (n - 1)",
    "the baseline leaves the response itself out: mean of the n - 1 others; a singleton keeps its score": "基线不含响应自身：其余 n - 1 个的均值；单成员组保留原 score",
    "discounted return-to-go, right to left; a masked token passes the running return through unchanged and gets "
    "return 0 (the golden batch has holes inside responses)": "从右到左的折扣回报；被掩码的 token 原样传递累计回报，自身 return 为 0（标准数据的响应内部有空洞）",
    "a masked token's reward is never added to the running return": "被掩码 token 的 reward 永远不加进累计回报",
    "skip the masked token: don't add its reward, don't reset the running return, store 0 there": "跳过被掩码的 token：不加它的 reward，不重置累计回报，该位置存 0",
    "whiten the returns over the valid tokens of the whole batch (not per response), then × mask": "在整个批次的有效 token 上（不是逐个响应）白化 returns，再 × mask",
    "masked_whiten(returns, mask) (unbiased variance), then multiply by the mask": "masked_whiten(returns, mask)（无偏方差），再乘以 mask",
    "advantages = returns - reward_baselines on valid tokens (the baseline times the mask)": "advantages = returns - reward_baselines，只在有效 token 上（基线乘以掩码）",
    "alpha · (score - group mean) / f_norm, alpha = bs / max(1, responses with a non-zero score)": "alpha · (score - 组均值) / f_norm，alpha = bs / max(1, score 非零的响应数)",
    "config['norm_adv_by_std_in_grpo'] is False: r_max - r_second_max, no division": "config['norm_adv_by_std_in_grpo'] 为 False：r_max - r_second_max，不做除法",
    "divide by f_norm": "除以 f_norm",
    "group-mean baseline first, then one whitening over the batch's valid tokens": "先减组均值基线，再在批次的有效 token 上做一次白化",
    "only each group's best response gets (r_max - r_second_max) / (unbiased std + epsilon); the rest 0": "每组只有最好的响应得到 (r_max - r_second_max) / (无偏 std + epsilon)；其余为 0",
    "returns[t] = Σ of rewards·mask from t to the end (undiscounted; masked rewards do not count)": "returns[t] = 从 t 到结尾的 rewards·mask 之和（不折扣；被掩码的 reward 不计）",
    "score minus its group's mean (a group of one: 0), on every valid token, then whitened over all valid tokens of "
    "the batch (unbiased variance), then 0 on masked tokens": "score 减去组均值（单成员组：0），放到每个有效 token 上，再在批次所有有效 token 上白化（无偏方差），被掩码 "
    "token 上为 0",
    "score minus the group's length-weighted mean score Σ len·score / Σ len (a group of one: 0), len = valid tokens "
    "of the response": "score 减去组内按长度加权的平均 score Σ len·score / Σ len（单成员组：0），len = 响应的有效 token 数",
    "the alpha argument is ignored: verl recomputes alpha from the batch": "参数 alpha 被忽略：verl 根据批次重新计算 alpha",
    "the baseline is subtracted on valid tokens only": "基线只在有效 token 上减去",
    "the baseline weighs each score by its response's length (a plain mean gives 0.5)": "基线按响应长度给每个 score 加权（简单平均会得到 0.5）",
    "the best response gets r_max - r_second_max; a tie at the top gives 0": "最好的响应得到 r_max - r_second_max；最高分并列时为 0",
    "the masked reward 5 is ignored; no discount": "被掩码的 reward 5 被忽略；不折扣",
    "verl reads norm_adv_by_std_in_grpo from config and ignores the keyword of the same name": "verl 从 config 读取 norm_adv_by_std_in_grpo，忽略同名的关键字参数",
    "global_counts=False: each micro-batch's loss uses its own counts (dp_size=1, no global counts) and is divided "
    "by num_micro_batches; backward sums per rank, the ranks are averaged": "global_counts=False：每个 micro-batch 的损失用自己的计数（dp_size=1，无全局计数），再除以 "
    "num_micro_batches；backward 在每个 rank 内求和，rank 之间取平均",
    "masked mean per sequence (over its valid tokens), then the plain mean over the batch": "每个序列在其有效 token 上取掩码均值，再在批次上直接平均",
    "token-mean: sum over valid tokens / number of valid tokens (padding is not a token)": "token-mean：有效 token 之和 / 有效 token 个数（填充不算 token）",
    "token-sum: the plain sum over valid tokens (times dp_size)": "token-sum：有效 token 的直接求和（乘以 dp_size）",
    "seq-mean-token-sum: sum each row's valid tokens, then average over the rows that have at least one valid token": "seq-mean-token-sum：每行有效 token 求和，再对至少有一个有效 token 的行取平均",
    "seq-mean-token-mean: mean of each row's valid tokens, then average over the rows that have at least one valid "
    "token": "seq-mean-token-mean：每行有效 token 取平均，再对至少有一个有效 token 的行取平均",
    "seq-mean-token-sum-norm: seq-mean-token-sum divided by a constant, the padded response length "
    "loss_mask.shape[-1] (Dr. GRPO)": "seq-mean-token-sum-norm：seq-mean-token-sum 除以常数，即填充后的响应长度 loss_mask.shape[-1]（Dr. GRPO）",
    "the golden inputs with -1000 instead of 50 where loss_mask is 0": "标准输入，但 loss_mask 为 0 处的 50 换成了 -1000",
    "the golden inputs with other values where response_mask is 0": "标准输入，但 response_mask 为 0 处换成了其他值",
    "with global counts the denominator is batch_num_tokens (token-mean) or global_batch_size (seq modes), not this "
    "micro-batch's own count, and the result is multiplied by dp_size; seq-mean-token-sum-norm divides by "
    "loss_scale_factor when it is given": "有全局计数时，分母是 batch_num_tokens（token-mean）或 global_batch_size（seq 模式），而不是本 micro-batch "
    "自己的计数，结果再乘以 dp_size；给定 loss_scale_factor 时 seq-mean-token-sum-norm 除以它",
    "0 valid tokens divided by a positive global count is exactly 0": "0 个有效 token 除以正的全局计数，结果正好是 0",
    "as in verl: the local count is 0 and there is no epsilon, so 0 / 0 = NaN": "与 verl 一致：本地计数为 0 且没有 epsilon，所以 0 / 0 = NaN",
    "the loss is the negated objective, so PPO's pessimistic min becomes max(-A·r, -A·clip(r)); the dual clip min(·, "
    "-A·clip_ratio_c) applies only where A < 0; then agg_loss(..., **config.global_batch_info)": "损失是目标的相反数，所以 PPO 悲观的 min 变成 max(-A·r, -A·clip(r))；双裁剪 min(·, -A·clip_ratio_c) 只用于 A "
    "< 0 处；然后 agg_loss(..., **config.global_batch_info)",
    "clamp log_prob - old_log_prob to [-20, 20] before exp, as verl does": "与 verl 一样，exp 之前把 log_prob - old_log_prob 截断到 [-20, 20]",
    "the gradient flows through exp(log_prob - old_log_prob) on unclipped tokens only, 0 on padding": "梯度只经未被裁剪 token 上的 exp(log_prob - old_log_prob) 回传，填充处为 0",
    "0.5 times the larger (pessimistic) squared error, averaged over the 2 valid tokens; min instead of max gives "
    "0.3125, no 0.5 gives 3.625": "较大（悲观）的平方误差乘以 0.5，在 2 个有效 token 上取平均；用 min 代替 max 得 0.3125，漏掉 0.5 得 3.625",
    "vf_loss = 0.5 · agg(max((vpreds - returns)², (clip(vpreds, values ± cliprange_value) - returns)²))": "vf_loss = 0.5 · agg(max((vpreds - returns)², (clip(vpreds, values ± cliprange_value) - returns)²))",
    "vf_clipfrac = masked mean of (clipped squared error > unclipped squared error)": "vf_clipfrac = （裁剪后的平方误差 > 未裁剪的平方误差）的掩码均值",
    "padding must not count in vf_loss or vf_clipfrac": "填充不能计入 vf_loss 或 vf_clipfrac",
    "entropy of each valid token, averaged over the valid tokens": "每个有效 token 的熵，在有效 token 上取平均",
    "aggregate with response_mask: padding tokens have no entropy to count": "用 response_mask 聚合：填充 token 的熵不计入",
    "per-token entropy H = logsumexp(z) - Σ softmax(z)·z, then agg_loss with the response mask": "逐 token 熵 H = logsumexp(z) - Σ softmax(z)·z，再用响应掩码做 agg_loss",
    "the ratio is the sequence's geometric mean exp(0.3) = 1.35, clipped to 1.2": "比值是序列的几何平均 exp(0.3) = 1.35，裁剪到 1.2",
    "value exp(sequence mean log-ratio), gradient through each token's own log_prob: log_prob - log_prob.detach() + "
    "mean.detach() (a token's own exp(0.2) would give 0.61 here)": "值是 exp(序列平均 log 比值)，梯度经每个 token 自己的 log_prob 回传：log_prob - log_prob.detach() + "
    "mean.detach()（若用 token 自己的 exp(0.2)，这里会得到 0.61）",
    "the clipped ratio is a detached weight: the gradient is -w·A/n on every token, clipped or not": "裁剪后的比值是 detach 的权重：每个 token 的梯度都是 -w·A/n，无论是否被裁剪",
    "-A · log_prob, no ratio: old_log_prob plays no part": "-A · log_prob，没有比值：old_log_prob 不参与",
    "verl takes the plain mean over all bs rows, empty ones included": "verl 对全部 bs 行直接取平均，空行也算在内",
    "only the token with the largest advantage × log-prob covariance gets + ppo_kl_coef · |d|": "只有 advantage × log-prob 协方差最大的 token 加上 ppo_kl_coef · |d|",
    "verl must accept the run as composed (batch sizes, the critic's settings)": "verl 必须接受组合出的这次运行（批大小、critic 的设置）",
    "gae needs a critic; verl's default critic.model.path is not your model": "gae 需要 critic；verl 默认的 critic.model.path 不是你的模型",
    "k1 = logprob - ref_logprob": "k1 = logprob - ref_logprob",
    "abs = |logprob - ref_logprob|": "abs = |logprob - ref_logprob|",
    "k2 = 0.5 · (logprob - ref_logprob)²": "k2 = 0.5 · (logprob - ref_logprob)²",
    "k3 = exp(x) - x - 1 with x = ref_logprob - logprob clamped to [-20, 20]; the result clamped to [-10, 10]": "k3 = exp(x) - x - 1，其中 x = ref_logprob - logprob 截断到 [-20, 20]；结果截断到 [-10, 10]",
    "clamp x = ref - logprob to [-20, 20] before exp, and the result to [-10, 10]": "exp 之前把 x = ref - logprob 截断到 [-20, 20]，结果截断到 [-10, 10]",
    "value of the estimator, gradient of k2: k2 - k2.detach() + estimator.detach()": "值取估计器的，梯度取 k2 的：k2 - k2.detach() + estimator.detach()",
    "straight-through changes the gradient, never the value": "直通（straight-through）只改变梯度，从不改变值",
    "the gradient of any '+' estimator is k2's: logprob - ref_logprob": "任何带 '+' 的估计器的梯度都是 k2 的：logprob - ref_logprob",
    "k2's gradient to ref_logprob is ref_logprob - logprob": "k2 对 ref_logprob 的梯度是 ref_logprob - logprob",
    "without a '+' the gradient is the estimator's own gradient": "不带 '+' 时，梯度就是估计器自己的梯度",
    "rewards = scores - kl_coef · (kl estimate × response_mask): a penalty is subtracted, and padding is not "
    "penalised": "rewards = scores - kl_coef · (KL 估计 × response_mask)：惩罚是减去的，填充不受惩罚",
    "subtract kl_coef · KL on valid tokens only; padded positions keep their score": "只在有效 token 上减去 kl_coef · KL；填充位置保留原 score",
    "current_kl = mean over the batch of each sequence's masked mean KL (empty rows count as 0)": "current_kl = 各序列 KL 掩码均值在批次上的平均（空行按 0 计）",
    "value *= 1 + clip(current_kl / target - 1, -0.2, 0.2) · n_steps / horizon": "value *= 1 + clip(current_kl / target - 1, -0.2, 0.2) · n_steps / horizon",
    "a fixed controller never changes its value": "固定控制器的值永远不变",
    "update() of a fixed controller does nothing": "固定控制器的 update() 什么都不做",
    "weight = min(exp(old_log_prob - rollout_log_prob), threshold): π_old / π_rollout, capped from above": "weight = min(exp(old_log_prob - rollout_log_prob), threshold)：π_old / π_rollout，从上方截断",
    "the ratio is π_old / π_rollout = exp(old_log_prob - rollout_log_prob)": "比值是 π_old / π_rollout = exp(old_log_prob - rollout_log_prob)",
    "clamp old_log_prob - rollout_log_prob to [-20, 20] (verl's SAFETY_BOUND) before exp": "exp 之前把 old_log_prob - rollout_log_prob 截断到 [-20, 20]（verl 的 SAFETY_BOUND）",
    "truncate at the `threshold` argument, not at a fixed 2.0": "按参数 `threshold` 截断，而不是固定的 2.0",
    "padding weights must be exactly 0 whatever the log-probs there (inf * 0 is NaN)": "无论填充处的 log-prob 是什么，填充的权重都必须正好是 0（inf * 0 是 NaN）",
    "the IS weights rescale each token's loss and must be constants: .detach() them": "IS 权重只是缩放每个 token 的损失，必须是常数：对它们 .detach()",
    "the golden batch with int uids and its rows reshuffled (the responses of one uid are no longer neighbours)":
        "用整数 uid 并打乱行顺序后的标准数据（同一 uid 的响应不再相邻）",
    "the golden inputs with large random rewards and values where response_mask is 0": "标准输入，但 response_mask 为 0 处换成了很大的随机 reward 和 value",
    "the golden inputs with large random rewards where response_mask is 0": "标准输入，但 response_mask 为 0 处换成了很大的随机 reward",
    "the golden logits with uniform ones where response_mask is 0": "标准 logits，但 response_mask 为 0 处换成了均匀的 logits",
    "the golden values with nan where the mask is 0 (0 * inf and 0 * nan are NaN)": "标准数值，但掩码为 0 处换成了 nan（0 * inf 和 0 * nan 都是 NaN）",
    "the golden values with nan where the mask is 0": "标准数值，但掩码为 0 处换成了 nan",
    "the golden values with inf where the mask is 0 (0 * inf and 0 * nan are NaN)": "标准数值，但掩码为 0 处换成了 inf（0 * inf 和 0 * nan 都是 NaN）",
    "the golden values with inf where the mask is 0": "标准数值，但掩码为 0 处换成了 inf",
    "the golden values with 1000000.0 where the mask is 0 (0 * inf and 0 * nan are NaN)": "标准数值，但掩码为 0 处换成了 1000000.0（0 * inf 和 0 * nan 都是 NaN）",
    "the golden values with 1000000.0 where the mask is 0": "标准数值，但掩码为 0 处换成了 1000000.0",
    # ---- chapter 04
    "return combine(...): 'score' plus every component, so verl logs each one": "返回 combine(...)：'score' 加上每个分量，verl 会逐项记录",
    "every setting is a keyword argument that wins over the default: score = combine(components, weights or WEIGHTS) "
    "= 2.0*1 + 0.0*1 + 1.0*(-1.0) = 1.0; the length term uses the given limit, buffer and factor: -(56 - 48) / 16 * "
    "2.0 = -1.0": "每个设置都是优先于默认值的关键字参数：score = combine(components, weights or WEIGHTS) = 2.0*1 + 0.0*1 + "
    "1.0*(-1.0) = 1.0；长度项用给定的上限、缓冲和系数：-(56 - 48) / 16 * 2.0 = -1.0",
    "verl takes result['score'] as the reward": "verl 把 result['score'] 作为奖励",
    "one score per text": "每个文本一个分数",
    "scores must come back in the order of `texts`": "分数必须按 `texts` 的顺序返回",
    "20 texts with batch_size=8 are 3 POSTs of 8, 8 and 4 texts": "20 个文本、batch_size=8 是 3 次 POST：8、8、4 个文本",
    "nothing to score: return [] without calling the server": "没有要打分的：直接返回 []，不调用服务",
    "collect results by batch position (gather keeps order), not in the order they complete": "按批次位置收集结果（gather 保持顺序），而不是按完成的先后",
    "a 5xx answer is worth retrying: try again up to `retries` times": "5xx 值得重试：最多再试 `retries` 次",
    "one attempt plus `retries` retries, then raise": "一次尝试加 `retries` 次重试，然后抛出异常",
    "a timeout is worth retrying, like a 5xx": "超时和 5xx 一样值得重试",
    "a 4xx answer means the request is wrong; retrying sends the same wrong request (verl does not)": "4xx 表示请求本身有错；重试只会再发同样错误的请求（verl 不重试）",
    "the score is the reward model's score of solution_str": "分数是奖励模型对 solution_str 的打分",
    "accept **kwargs: verl may pass reward_router_address and reward_model_tokenizer": "接受 **kwargs：verl 可能传入 reward_router_address 和 reward_model_tokenizer",
    "None means no answer was extracted: never correct, never an error": "None 表示没有提取到答案：永远不算对，也不是错误",
    "a compiled re.Pattern is used as it is (re.fullmatch(compiled, s, re.DOTALL) raises)": "编译好的 re.Pattern 原样使用（re.fullmatch(compiled, s, re.DOTALL) 会抛异常）",
    "keep the compiled pattern's own flags; do not add DOTALL to it": "保留编译好的模式自己的标志；不要给它加 DOTALL",
    "free up to max - buffer = 16, then a linear ramp to -factor at max; never a bonus": "到 max - buffer = 16 为止不扣分，之后线性下降，到 max 处为 -factor；从不加分",
    "a loop repeats almost every n-gram: the penalty is -(total - distinct) / total": "循环几乎重复每个 n-gram：惩罚是 -(total - distinct) / total",
    "return 'score' AND every component, so verl logs each term": "返回 'score' *以及*每个分量，verl 会逐项记录",
    "score = sum(weights[k] * components[k])": "score = sum(weights[k] * components[k])",
    "a zero-weighted component is still logged": "权重为 0 的分量也照样记录",
    "no component: the total is 0.0": "没有分量：总分为 0.0",
    "components are logged raw (unweighted), so you can see which term moves": "分量按原值（不加权）记录，便于看出是哪一项在变",
    "bind the work folder at its own path (--bind work work) and start there (--chdir work)": "把工作目录挂载在它自己的路径上（--bind work work），并从那里开始（--chdir work）",
    "as root: setpriv --reuid=65534 --regid=65534 after '--'; otherwise --uid 65534 --gid 65534": "以 root 运行：在 '--' 之后用 setpriv --reuid=65534 --regid=65534；否则用 --uid 65534 --gid 65534",
    "the mount tree starts empty: bind only the system libraries, the interpreter's prefix, /dev and the work folder "
    "— never / or /tmp or the home folder": "挂载树从空开始：只挂系统库、解释器的 prefix、/dev 和工作目录 —— 绝不挂 /、/tmp 或主目录",
    "--ro-bind for the interpreter's prefix, --bind (writable) for work only": "解释器的 prefix 用 --ro-bind，只有工作目录用（可写的）--bind",
    "--clearenv, then --setenv PATH, LANG and LC_ALL only": "--clearenv，然后只 --setenv PATH、LANG 和 LC_ALL",
    "--new-session (bwrap calls setsid() inside the jail)": "--new-session（bwrap 在监狱内调用 setsid()）",
    "write stdin to a file and pass it as the child's stdin": "把 stdin 写到文件里，作为子进程的 stdin",
    "run the child in UTF-8 mode (-X utf8) and decode its output as UTF-8": "让子进程以 UTF-8 模式运行（-X utf8），并按 UTF-8 解码其输出",
    "jail=False is the caller's explicit opt-in: run under the guard and record jailed=False": "jail=False 是调用方明确的选择：在守卫下运行并记录 jailed=False",
    "one --name=soft:hard per limit; memory in bytes (MiB << 20)": "每个限制一个 --name=soft:hard；内存以字节计（MiB << 20）",
    "the LAST Python block (tags '', python, py, python3); a ```text block is output, not code": "*最后一个* Python 代码块（标签 ''、python、py、python3）；```text 块是输出，不是代码",
    "an empty tag is Python": "空标签算 Python",
    "an unclosed fence is not a block (the response was cut off)": "没有闭合的围栏不算代码块（响应被截断了）",
    "only Python tags count": "只算 Python 标签",
    "a parquet ground_truth column stores the list as JSON: json.loads a str first": "parquet 的 ground_truth 列把列表存成 JSON：是 str 时先 json.loads",
    "a timed-out run passes nothing": "超时的运行一个用例也不算通过",
    "no test case proves nothing: 0.0 (and never a ZeroDivisionError)": "没有测试用例就什么也证明不了：0.0（绝不能 ZeroDivisionError）",
    "a PID namespace (--unshare-pid) hides every process outside the jail": "PID 命名空间（--unshare-pid）隐藏监狱外的所有进程",
    # ---- chapter 05
    "render a conversation with and without the tool message and keep the token suffix": "分别渲染带和不带工具消息的对话，保留 token 后缀",
    "the engine's out.log_probs on the model's tokens (in order), 0.0 on tool/template tokens": "模型 token 上是引擎的 out.log_probs（按顺序），工具/模板 token 上是 0.0",
    "generations + appended tool turns + 1 (the prompt), as verl counts": "生成次数 + 追加的工具轮次 + 1（prompt），与 verl 的计数一致",
    "one step reward per executed call, in call order (0.0 for unknown tools and tools that raised)": "每次执行的调用一个步奖励，按调用顺序（未知工具和抛异常的工具为 0.0）",
    "the first generation sees exactly prompt_ids": "第一次生成看到的正好是 prompt_ids",
    "one request_id per trajectory, kept for all its turns (sticky session), a new one per trajectory": "每条轨迹一个 request_id，所有轮次沿用（粘性会话），每条新轨迹一个新的",
    "{name: await tool.calc_reward(instance_id)} (the probe tools score their number of executes)": "{name: await tool.calc_reward(instance_id)}（探针工具的分数是它们被执行的次数）",
    "reward_score = the calc_gsm8k_reward tool's calc_reward after the episode; the tool's ground truth comes from "
    "row['extra_info']['tools_kwargs'] (this test runs your run_agent and tools: 05.run_agent, 05.calculator and "
    "05.gsm8k_tool first)": "reward_score = 回合结束后 calc_gsm8k_reward 工具的 calc_reward；工具的 ground truth 来自 "
    "row['extra_info']['tools_kwargs']（本测试运行你的 run_agent 和工具：请先完成 05.run_agent、05.calculator 和 "
    "05.gsm8k_tool）",
    "calc_reward of an instance with no submission: the empty response scores 0": "没有提交过的实例的 calc_reward：空响应得 0",
    "one instance per tool per trajectory, created before the first generation": "每条轨迹每个工具一个实例，在第一次生成之前创建",
    "create(create_kwargs=tools_kwargs.get(name, {}).get('create_kwargs', {})), as verl calls it": "create(create_kwargs=tools_kwargs.get(name, {}).get('create_kwargs', {}))，与 verl 的调用方式一致",
    "every created instance is released exactly once": "每个创建的实例都正好释放一次",
    "calc_reward once per instance after the last turn, before release": "最后一轮之后、释放之前，对每个实例调用一次 calc_reward",
    "the text before the call is kept as written, trailing newline included": "调用之前的文本原样保留，包括末尾的换行",
    "BaseTool takes the name from the schema get_openai_tool_schema() returns": "BaseTool 从 get_openai_tool_schema() 返回的 schema 中取名字",
    "Python's semantics; a whole float prints as an int, any other float with repr()": "按 Python 的语义；整数值的 float 打印成 int，其他 float 用 repr()",
    "walk ast.parse(expression, mode='eval') yourself: numbers and the arithmetic operators only": "自己遍历 ast.parse(expression, mode='eval')：只允许数字和算术运算符",
    "a given instance id is used as is": "给定的实例 id 原样使用",
    "keep each instance's state in self._instance_dict, keyed by instance id": "每个实例的状态放在 self._instance_dict 里，以实例 id 为键",
    "two tool objects never share state: create the dict in __init__, not on the class": "两个工具对象绝不共享状态：在 __init__ 里创建 dict，而不是在类上",
    "release forgets the instance — a long run creates millions of them": "release 会忘掉实例 —— 长时间运行会创建数以百万计的实例",
    "verl calls cls(config=..., tool_schema=None): the default schema must come from get_openai_tool_schema()": "verl 调用 cls(config=..., tool_schema=None)：默认 schema 必须来自 get_openai_tool_schema()",
    "verl's GSM8K recipes and datasets use this name (tools_kwargs are keyed by it)": "verl 的 GSM8K 配方和数据集使用这个名字（tools_kwargs 以它为键）",
    "the ground truth comes from the keyword or from create_kwargs['ground_truth']": "ground truth 来自关键字参数或 create_kwargs['ground_truth']",
    "state lives in self._instance_dict (made in __init__) under the instance id — a dict on the class would be "
    "shared by every tool object": "状态以实例 id 为键存放在 self._instance_dict（在 __init__ 中创建）—— 类上的 dict 会被所有工具对象共享",
    "release deletes the instance's state": "release 删除实例的状态",
    "the step reward of a first, correct submission is 0.0": "第一次就正确的提交，步奖励是 0.0",
    "verl's gsm8k.compute_score(response, ground_truth, method='flexible') on the last answer": "对最后一个答案调用 verl 的 gsm8k.compute_score(response, ground_truth, method='flexible')",
    "f\"Current parsed {answer=} {reward=}\" after '#### ' + answer is scored": "'#### ' + answer 打分之后返回 f\"Current parsed {answer=} {reward=}\"",
    "0.0 if this reward beats the previous submission's reward (the stored one), else -0.05": "这次的奖励高于上一次提交（已存储的）奖励时为 0.0，否则为 -0.05",
    # ---- chapter 06
    "verl 0.9.1 reads the reward function from reward.custom_reward_function": "verl 0.9.1 从 reward.custom_reward_function 读取奖励函数",
    "each message is tokenized on its own; turns after the first drop the repeated system prompt": "每条消息单独分词；第一条之后的轮次去掉重复的 system prompt",
    "the model learns the answer *and* to stop; the prompt is never trained": "模型既学答案*也*学停止；prompt 永远不参与训练",
}
