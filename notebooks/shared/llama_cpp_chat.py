# 用 llama.cpp 运行的本地聊天模型，接口与上面的 TransformersChat 相同（complete 和 stream），
# openai_server 不用改。这个单元与仓库里的 notebooks/shared/llama_cpp_chat.py 完全相同（测试会核对）。
# 为什么要它：只有 CPU 时，transformers 用 float32 计算（多数 CPU 没有快速的 bfloat16 指令），每生成
# 一个 Token 都要把约 2 GB 的权重从内存读一遍，内存带宽决定了速度。llama.cpp 直接用 GGUF 文件里
# 4 位量化的权重（约 0.5 GB）计算，每一步读的字节少得多，生成快好几倍。
# 分词和聊天模板仍然用 transformers 的分词器：送进模型的 Token 与 TransformersChat 完全相同，
# 只是前向计算换成了 llama.cpp（通过 cyllama 这个 Python 绑定）。
# 批处理和前缀缓存也照样做：同一批请求各占 KV 缓存里的一条序列，相同的开头只算一次，
# 用 memory_seq_cp 让每条序列共用这段缓存。接着上一批的对话往下问的请求（智能体的下一步、
# 校验失败后的重试）继续用上一批的那条序列，只算新加上的部分，不重算整段对话。
import os
import queue
import threading

try:
    from cyllama.llama import llama_cpp as llama
except ImportError:  # 没有 cyllama（例如 Colab、Kaggle，或没有它的安装包的平台）：用 TransformersChat
    llama = None


class LlamaCppChat(TransformersChat):  # 排队、拼批和分组沿用 TransformersChat（上面的单元）
    """A chat model for openai_server: a GGUF file run by llama.cpp, prompts from `tokenizer`'s chat
    template.  Requests that arrive together are generated as one batch, as with TransformersChat."""

    def __init__(self, gguf_path, tokenizer, max_batch=16, wait_seconds=0.1, context=16384, threads=None):
        llama.disable_logging()  # llama.cpp 默认把加载过程逐行打印出来
        llama.ggml_backend_load_all()
        model_params = llama.LlamaModelParams()
        model_params.n_gpu_layers = 0  # 全部在 CPU 上算
        self.llama_model = llama.LlamaModel(str(gguf_path), model_params)
        self.vocab = self.llama_model.get_vocab()
        params = llama.LlamaContextParams()
        params.n_ctx = context  # 所有序列一共能放多少个位置
        params.n_batch = 2048  # 一次 decode 最多送进多少个 Token
        params.n_seq_max = max_batch + 1  # 每个请求一条序列，再加一条存留着的公共开头
        params.kv_unified = True  # 各序列共用一块 KV 缓存：共用的开头只存一份
        params.n_threads = params.n_threads_batch = threads or len(os.sched_getaffinity(0))
        self.context = llama.LlamaContext(self.llama_model, params)
        self.keep = max_batch  # 存留公共开头的那条序列的编号
        self.kept = []  # 它里面是哪些 Token
        self.held = {}  # 上一批每条序列的 KV 缓存里是哪些 Token：{序列编号: Token 列表}
        # 以下与 TransformersChat 相同：请求排队，后台线程把同时到达的请求拼成一批
        self.tokenizer, self.max_batch, self.wait_seconds = tokenizer, max_batch, wait_seconds
        self.batch_sizes, self.lock, self.waiting = [], threading.Lock(), queue.Queue()
        threading.Thread(target=self._batches, daemon=True).start()

    def _generate(self, requests):
        settings = requests[0][1]
        self.batch_sizes.append(len(requests))
        prompts = [self._prompt(messages) for messages, _, _ in requests]
        stops = self._options(settings)[1]
        with self.lock:
            rows = self._start(prompts, [s for _, s, _ in requests])
            while any(row["active"] for row in rows):
                self._step(rows, stops)
            self.held = {row["seq"]: row["tokens"] for row in rows}  # 下一批接着这些对话时不用重算
        return [self._result(row, prompt, stops) for row, prompt in zip(rows, prompts)]

    def _prompt(self, messages):
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _start(self, prompts, settings):
        """Put every prompt into the KV cache (its own sequence) and sample each row's first new token.
        A prompt that continues a conversation of the previous batch (an agent's next step, a retry)
        keeps that sequence and computes only what was added; the others share the kept common start."""
        reused = self._reuse(prompts)
        fresh = [prompt for prompt, (_, kept) in zip(prompts, reused) if not kept]
        prefix = (shared_prefix(fresh) if len(fresh) > 1 else fresh[0][:-1]) if fresh else self.kept
        self._keep_prefix(prefix)
        rows, own = [], []
        for (seq, kept), prompt, s in zip(reused, prompts, settings):
            if not kept:
                self.context.memory_seq_cp(self.keep, seq, -1, -1)  # 公共开头：不重算，直接共用
                kept = len(prefix)
            rows.append({"seq": seq, "new": [], "max_tokens": s.max_tokens, "active": True,
                         "sampler": self._sampler(s), "position": len(prompt), "tokens": list(prompt)})
            own.append((rows[-1], prompt[kept:], kept))
        self._feed(own)
        return rows

    def _reuse(self, prompts):
        """(sequence, tokens of it to keep) for each prompt.  A sequence of the previous batch is kept when
        the prompt starts with more of its tokens than of the kept common start; the rest get a free
        sequence (0 kept).  Every other sequence is emptied, so the cache holds only this batch."""
        held, self.held, chosen = self.held, {}, {}  # chosen：{提示词的下标: (序列编号, 留下几个 Token)}
        for i, prompt in enumerate(prompts):
            most = common_length(self.kept, prompt)
            for seq, tokens in held.items():
                same = common_length(tokens, prompt[:-1])  # 最后一个 Token 总要算一遍：要它的分数
                if same > most and seq not in {c for c, _ in chosen.values()}:
                    chosen[i], most = (seq, same), same
        used = {seq: same for seq, same in chosen.values()}
        for seq in range(self.max_batch):
            self.context.memory_seq_rm(seq, used.get(seq, 0), -1)  # 接着的对话留下相同的开头，其余清空
        free = iter(sorted(set(range(self.max_batch)) - set(used)))
        return [chosen.get(i) or (next(free), 0) for i in range(len(prompts))]

    def _keep_prefix(self, prefix):
        """Make the kept sequence hold exactly `prefix`, computing only the tokens it lacks."""
        same = common_length(prefix, self.kept)
        self.context.memory_seq_rm(self.keep, same, -1)  # 不同的部分丢掉
        batch = llama.LlamaBatch(n_tokens=2048, embd=0, n_seq_max=1)
        for start in range(same, len(prefix), 2048):  # 太长的开头分几次送进去
            batch.clear()
            for position in range(start, min(start + 2048, len(prefix))):
                batch.add(prefix[position], position, [self.keep], False)  # 开头不需要输出分数
            self.context.decode(batch)
        self.kept = list(prefix)

    def _feed(self, pieces):
        """Decode each row's own tokens; right after the decode holding a row's last token, sample its first new token."""
        batch = llama.LlamaBatch(n_tokens=2048, embd=0, n_seq_max=1)  # n_seq_max：每个 Token 属于几条序列
        waiting = []  # 这次 decode 之后要抽下一个 Token 的行，和它在这一批里的下标
        for row, tokens, start in pieces:
            for i, token in enumerate(tokens):
                if batch.n_tokens == 2048:
                    self._decode_and_sample(batch, waiting)
                last = i == len(tokens) - 1
                if last:
                    waiting.append((row, batch.n_tokens))
                batch.add(token, start + i, [row["seq"]], last)
        self._decode_and_sample(batch, waiting)

    def _decode_and_sample(self, batch, waiting):
        if batch.n_tokens:
            self.context.decode(batch)
        for row, index in waiting:
            row["next"] = row["sampler"].sample(self.context, index)
        batch.clear()
        waiting.clear()

    def _step(self, rows, stops):
        """Append each active row's sampled token, stop the rows that are done, decode the rest one token further."""
        batch = llama.LlamaBatch(n_tokens=len(rows), embd=0, n_seq_max=1)
        waiting = []
        for row in rows:
            if not row["active"]:
                continue
            token = row["next"]
            if self.vocab.is_eog(token):  # 模型说完了（<|im_end|> 之类）
                row.update(active=False, finish="stop")
                continue
            row["new"].append(token)
            if stops and cut_at_stop(self.tokenizer.decode(row["new"], skip_special_tokens=True), stops)[1]:
                row.update(active=False, finish="stop")
            elif len(row["new"]) >= row["max_tokens"]:
                row.update(active=False, finish="length")
            else:
                waiting.append((row, batch.n_tokens))
                batch.add(token, row["position"], [row["seq"]], True)
                row["position"] += 1
                row["tokens"].append(token)
        self._decode_and_sample(batch, waiting)

    def _result(self, row, prompt, stops):
        text, _ = cut_at_stop(self.tokenizer.decode(row["new"], skip_special_tokens=True), stops)
        return text, row["finish"], len(prompt), len(row["new"])

    @staticmethod
    def _sampler(settings):
        """llama.cpp's sampler chain for OpenAI's settings: greedy at temperature 0, else temperature, top-p, draw."""
        sampler = llama.LlamaSampler(llama.LlamaSamplerChainParams())
        if settings.temperature == 0:
            sampler.add_greedy()
        else:
            sampler.add_temp(settings.temperature)
            sampler.add_top_p(settings.top_p, 1)
            sampler.add_dist(settings.seed if settings.seed is not None else int.from_bytes(os.urandom(4), "little"))
        return sampler

    def stream(self, messages, settings):
        prompt = self._prompt(messages)
        stops = self._options(settings)[1]
        with self.lock:
            [row] = self._start([prompt], [settings])
            sent, keep = 0, max((len(s) for s in stops), default=1) - 1
            while row["active"]:
                self._step([row], stops)
                text = self.tokenizer.decode(row["new"], skip_special_tokens=True)
                if text.endswith("\ufffd"):  # 一个汉字的字节被拆在两个 Token 里：等下一个 Token 补齐
                    continue
                text, stopped = cut_at_stop(text, stops)
                ready = len(text) if stopped or not row["active"] else len(text) - keep
                if ready > sent:
                    yield text[sent:ready]
                    sent = ready
            self.held = {row["seq"]: row["tokens"]}
            text, _ = cut_at_stop(self.tokenizer.decode(row["new"], skip_special_tokens=True), stops)
            if len(text) > sent:
                yield text[sent:]


def common_length(a, b):
    """How many tokens the lists `a` and `b` have in common at their start."""
    same = 0
    while same < min(len(a), len(b)) and a[same] == b[same]:
        same += 1
    return same
