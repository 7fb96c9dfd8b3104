# 本地聊天模型：把一个 transformers 语言模型包装成 openai_server 要的「聊天模型」。这个单元与
# 仓库里的 notebooks/shared/local_chat.py 完全相同（测试会核对）。
# 对话先用模型自带的聊天模板（chat template）拼成一段文本，再交给 model.generate 续写。
# 采样参数按 OpenAI 的含义解释：temperature 为 0 时贪心解码，否则按 temperature 和 top_p 采样；
# seed 让采样可以复现；stop 里的字符串一出现就停，并且不出现在回答里（与 OpenAI 相同）。
# 同时到达的请求会拼成一批一起算（批处理，batching）：CPU 上一次算 16 个回答，总速度是一次算
# 一个的好几倍。一批请求开头相同的部分（聊天模板、系统提示、少样本的例子）只算一次（前缀缓存，
# prefix caching）。推理服务（vLLM、SGLang 等）都这样做，见「专业深入」阶段的推理服务一节。
import copy
import queue
import threading
from concurrent.futures import Future

import torch
from transformers import TextIteratorStreamer


class TransformersChat:
    """A chat model for openai_server: a causal LM and its tokenizer's chat template.
    Requests that arrive within `wait_seconds` of each other are generated as one batch (up to
    `max_batch`): a batch's answers depend slightly on which requests share it, so send requests
    that must be reproducible in fixed groups."""

    def __init__(self, model, tokenizer, max_batch=16, wait_seconds=0.1):
        self.model, self.tokenizer = model.eval(), tokenizer
        self.max_batch, self.wait_seconds = max_batch, wait_seconds
        self.batch_sizes = []  # 每次 generate 算了几个请求：看得到批处理有没有发生
        self.lock = threading.Lock()  # 模型一次只做一件事：一批普通请求，或者一个流式请求
        self.kept_prefix = ([], None)  # 上一批请求相同的开头和它的 KV 缓存：下一批多半还是这个开头
        self.waiting = queue.Queue()
        threading.Thread(target=self._batches, daemon=True).start()

    def complete(self, messages, settings):
        """(text, finish_reason, prompt tokens, completion tokens), generated in a batch with
        whatever other requests are waiting."""
        answer = Future()
        self.waiting.put((messages, settings, answer))
        return answer.result()

    def _batches(self):
        while True:
            batch = [self.waiting.get()]
            # 每来一个请求，再等一小会儿，直到没有新请求或批满了（单独算的请求不用等）
            while len(batch) < self.max_batch and not self._alone(batch[0][1]):
                try:
                    batch.append(self.waiting.get(timeout=self.wait_seconds))
                except queue.Empty:
                    break
            # 一批里的请求必须用同样的采样设置；带 seed 的采样请求单独算，seed 才能让结果复现
            groups = {}
            for request in batch:
                s = request[1]
                stops = (s.stop,) if isinstance(s.stop, str) else tuple(s.stop or ())
                groups.setdefault(id(request) if self._alone(s) else (s.temperature, s.top_p, stops), []).append(request)
            for requests in groups.values():
                try:
                    results = self._generate(requests)
                except Exception as error:  # 出错时让每个等待的请求都收到这个错误，服务返回 500
                    for _, _, answer in requests:
                        answer.set_exception(error)
                    continue
                for (_, _, answer), result in zip(requests, results):
                    answer.set_result(result)

    @staticmethod
    def _alone(settings):
        """Seeded sampling is generated alone: with others in the batch the same seed gives another answer."""
        return settings.temperature > 0 and settings.seed is not None

    def _generate(self, requests):
        settings = requests[0][1]
        self.batch_sizes.append(len(requests))
        texts = [self.tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True)
                 for m, _, _ in requests]
        prompts = [self.tokenizer(text, add_special_tokens=False)["input_ids"] for text in texts]  # 每个请求的 Token 编号
        options, stops = self._options(settings)
        options["max_new_tokens"] = max(s.max_tokens for _, s, _ in requests)
        with self.lock, torch.inference_mode():
            input_ids, attention_mask, cache = self._prefix_cached(prompts)
            if settings.seed is not None:
                torch.manual_seed(settings.seed)
            output = self.model.generate(input_ids=input_ids, attention_mask=attention_mask,
                                         past_key_values=cache, **options)
        width, ends = input_ids.shape[1], self._end_ids() | {self.tokenizer.pad_token_id}
        results = []
        for row, (_, own, _) in enumerate(requests):
            new = output[row, width:width + own.max_tokens].tolist()
            length = next((i for i, token in enumerate(new) if token in ends), None)
            text, stopped = cut_at_stop(self.tokenizer.decode(new[:length], skip_special_tokens=True), stops)
            finish = "stop" if stopped or length is not None else "length"
            results.append((text, finish, len(prompts[row]), len(new) if length is None else length))
        return results

    def _prefix_cached(self, prompts):
        """(input ids, attention mask, KV cache) for generate: the tokens all prompts start with are
        computed once and their cache is copied to every row; each row then adds only its own tokens.
        That cache is kept for the next batch: rounds of the same task start with the same tokens."""
        prefix = shared_prefix(prompts) if len(prompts) > 1 else []
        device, pad = self.model.device, self.tokenizer.pad_token_id
        cache = None  # 单独一个请求，或者没有相同的开头：普通的左侧补齐，generate 自己建缓存
        if prefix:
            kept = self.kept_prefix[0]
            if kept and prefix[:len(kept)] == kept:  # 这一批也以留着的开头起头：直接用它，每行自己的部分从它后面算起
                prefix = kept
            else:
                cache = self.model(torch.tensor([prefix], device=device), use_cache=True).past_key_values
                self.kept_prefix = (prefix, cache)
            cache = copy.deepcopy(self.kept_prefix[1])  # 留着的那份不动，这一批用它的副本
            cache.batch_repeat_interleave(len(prompts))
        # 各行自己的部分长短不一，短的在前面补齐，补齐的位置在注意力里被遮住（attention_mask 为 0）。
        # 位置编号按 attention_mask 数，所以每个 Token 的位置与单独算这个请求时相同
        own = [p[len(prefix):] for p in prompts]
        width = max(len(o) for o in own)
        input_ids = [prefix + [pad] * (width - len(o)) + o for o in own]
        attention_mask = [[1] * len(prefix) + [0] * (width - len(o)) + [1] * len(o) for o in own]
        return torch.tensor(input_ids, device=device), torch.tensor(attention_mask, device=device), cache

    def _inputs(self, messages):
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True,
                                                  return_tensors="pt").to(self.model.device)

    def _options(self, settings):
        options = {"max_new_tokens": settings.max_tokens, "pad_token_id": self.tokenizer.pad_token_id}
        if settings.temperature > 0:
            options.update(do_sample=True, temperature=settings.temperature, top_p=settings.top_p, top_k=None)
        else:
            options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        stops = [settings.stop] if isinstance(settings.stop, str) else settings.stop
        if stops:
            options.update(stop_strings=stops, tokenizer=self.tokenizer)
        return options, stops or []

    def stream(self, messages, settings):
        inputs = self._inputs(messages)
        options, stops = self._options(settings)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)

        def generate():
            with self.lock, torch.inference_mode():
                if settings.seed is not None:
                    torch.manual_seed(settings.seed)
                self.model.generate(**inputs, **options, streamer=streamer)

        threading.Thread(target=generate, daemon=True).start()
        # 停止词可能被拆在两段里：留住末尾可能是停止词开头的几个字，确认不是再发出去
        held, keep = "", max((len(s) for s in stops), default=1) - 1
        for piece in streamer:
            held += piece
            text, stopped = cut_at_stop(held, stops)
            if stopped:
                if text:
                    yield text
                return
            if len(held) > keep:
                yield held[:len(held) - keep]
                held = held[len(held) - keep:]
        if held:
            yield held

    def _end_ids(self):
        ids = self.model.generation_config.eos_token_id
        return set(ids if isinstance(ids, list) else [ids])


def shared_prefix(prompts):
    """The token ids every prompt starts with, leaving each prompt at least one token of its own."""
    prefix = prompts[0][:min(len(p) for p in prompts) - 1]
    for i, token in enumerate(prefix):
        if any(p[i] != token for p in prompts):
            return prefix[:i]
    return prefix


def cut_at_stop(text, stops):
    """(text up to the first stop string, whether one was found)."""
    cuts = [text.find(s) for s in stops if s and s in text]
    return (text[:min(cuts)], True) if cuts else (text, False)
