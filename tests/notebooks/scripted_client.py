"""A stand-in for `openai.OpenAI` in the notebooks' fast tests: no model, no server."""

from __future__ import annotations

from types import SimpleNamespace


class ScriptedClient:
    """Looks like openai.OpenAI for chat.completions.create; answers from a script, records requests."""

    def __init__(self, answers):
        self.answers, self.requests = list(answers), []
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._create))

    def _create(self, **request):
        self.requests.append(request)
        text = self.answers.pop(0)
        return SimpleNamespace(choices=[SimpleNamespace(message=SimpleNamespace(content=text))],
                               usage=SimpleNamespace(completion_tokens=len(text)))
