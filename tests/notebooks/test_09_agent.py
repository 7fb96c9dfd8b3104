"""The agent notebook: its calculator, converter, schemas, reply parsing, agent loop (driven by a
scripted client, no model), the no-feedback truncation and the task checker, imported from the notebook."""

from __future__ import annotations

import datetime
import linecache
import sys
from types import SimpleNamespace

import pytest

from tests.notebook_import import NOTEBOOKS, load_exports
from tests.notebooks.scripted_client import ScriptedClient

NAME = "09-agent-tool-calling.ipynb"


@pytest.fixture(scope="module")
def nb():
    return load_exports(NAME)


@pytest.fixture
def registry(nb):
    return nb.make_registry(lambda query: [{"title": "t", "snippet": query}])


# --- calculator --------------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [("3 + 4 * 5", 23), ("(3 + 4) * 5", 35), ("-2 ** 2", -4), ("17 // 5", 3),
                                         ("17 % 5", 2), ("2 ** -2", 0.25), ("12.5 * 0.8 + 3.75", 13.75),
                                         ("17 × 23", 391), ("（125 + 375）÷ 4", 125), ("200 * 15%", 30), ("100 % 8", 4)])
def test_the_calculator_does_arithmetic(nb, text, value):
    assert nb.calculate(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["__import__('os').system('ls')", "open('x')", "x + 1", "(1).__class__", "9 ** 9 ** 9",
                                  "[1] * 3", "1 / 0", "'a' * 3", "1 +", "lambda: 1", "1" * 300])
def test_the_calculator_rejects_anything_but_arithmetic(nb, text):
    with pytest.raises(ValueError):
        nb.calculate(text)


def test_a_caret_gets_an_error_that_says_how_to_write_a_power(nb):
    with pytest.raises(ValueError, match=r"乘方请写 \*\*"):
        nb.calculate("2^10")


def test_numbers_are_formatted_short(nb):
    assert [nb.format_number(x) for x in (272.0, 0.1 + 0.2, 3, -28.0)] == ["272", "0.3", "3", "-28"]


# --- converter, today -------------------------------------------------------------------------
@pytest.mark.parametrize("value, a, b, expected", [(5, "km", "mile", 3.106856), (3, "千克", "斤", 6), (150, "磅", "kg", 68.03886),
                                                   (25, "摄氏度", "华氏度", 77), (98.6, "F", "C", 37), (10, "米", "feet", 32.8084),
                                                   (0, "C", "K", 273.15)])
def test_units_convert(nb, value, a, b, expected):
    assert nb.convert(value, a, b) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("a, b, message", [("米", "公斤", "不能互相换算"), ("光年", "km", "不认识的单位")])
def test_unknown_or_mismatched_units_raise_a_clear_error(nb, a, b, message):
    with pytest.raises(ValueError, match=message):
        nb.convert(1, a, b)


def test_today_gives_the_iso_date_and_the_chinese_weekday(nb):
    day = datetime.date.today()
    assert nb.today() == f"{day.isoformat()}，星期{'一二三四五六日'[day.weekday()]}"


# --- schemas and validation -------------------------------------------------------------------
def test_schemas_come_from_the_argument_models(nb, registry):
    assert set(registry) == {"calculator", "unit_converter", "today", "search_site"}
    schema = nb.tool_schema(registry["unit_converter"])
    assert schema["required"] == ["value", "from_unit", "to_unit"] and schema["properties"]["value"] == {"type": "number"}
    assert schema["additionalProperties"] is False and "title" not in schema


@pytest.mark.parametrize("name, arguments", [
    ("calculator", {"expression": "1"}), ("calculator", {"expression": 3}), ("calculator", {}),
    ("calculator", {"expression": "1", "x": 2}), ("unit_converter", {"value": 5, "from_unit": "a", "to_unit": "b"}),
    ("unit_converter", {"value": 2.5, "from_unit": "a", "to_unit": "b"}), ("unit_converter", {"value": "5", "from_unit": "a", "to_unit": "b"}),
    ("unit_converter", {"value": True, "from_unit": "a", "to_unit": "b"}), ("unit_converter", {"value": None, "from_unit": "a", "to_unit": "b"}),
    ("today", {}), ("today", {"city": "杭州"}), ("search_site", {"query": ["x"]})])
def test_pydantic_and_jsonschema_agree(nb, registry, name, arguments):
    import jsonschema
    from pydantic import ValidationError

    tool = registry[name]
    try:
        tool.arguments.model_validate(arguments)
        by_pydantic = True
    except ValidationError:
        by_pydantic = False
    try:
        jsonschema.validate(arguments, tool.arguments.model_json_schema())
        by_library = True
    except jsonschema.ValidationError:
        by_library = False
    assert by_pydantic == by_library


# --- parsing replies --------------------------------------------------------------------------
@pytest.mark.parametrize("reply, action", [
    ('{"tool": "today", "arguments": {}}', {"tool": "today", "arguments": {}}),
    ('好的：\n```json\n{"tool": "calculator", "arguments": {"expression": "1+2"}}\n```', {"tool": "calculator", "arguments": {"expression": "1+2"}}),
    ('<tool_call>\n{"name": "today", "arguments": {}}\n</tool_call>', {"tool": "today", "arguments": {}}),
    ('{"name": "calculator", "arguments": "{\\"expression\\": \\"2\\"}"}', {"tool": "calculator", "arguments": {"expression": "2"}}),
    ('{"answer": "等于 72。"}', {"answer": "等于 72。"}), ('{"answer": 72}', {"answer": "72"})])
def test_replies_parse(nb, reply, action):
    assert nb.parse_action(reply) == action


@pytest.mark.parametrize("reply", ["等于 72", '{"tool": "calculator", "arguments": {', '{"tool": 3}', "[1, 2]", '{"foo": 1}'])
def test_garbage_is_invalid_json(nb, reply):
    with pytest.raises(nb.AgentError) as error:
        nb.parse_action(reply)
    assert error.value.kind == "invalid_json"


def test_in_the_native_format_plain_text_is_the_answer(nb):
    assert nb.parse_native("今天是星期二。") == {"answer": "今天是星期二。"}
    assert nb.parse_native('<tool_call>{"name": "today", "arguments": {}}</tool_call>')["tool"] == "today"


def test_the_template_wrapper_adds_the_tools(nb, registry):
    calls = []
    fake = SimpleNamespace(apply_chat_template=lambda messages, **o: calls.append(o) or "text", pad_token_id=7)
    wrapped = nb.ToolsInTemplate(fake, nb.native_tools(registry))
    assert wrapped.apply_chat_template([], tokenize=False) == "text" and wrapped.pad_token_id == 7
    assert [t["function"]["name"] for t in calls[0]["tools"]] == list(registry) and calls[0]["tokenize"] is False


# --- the agent loop ---------------------------------------------------------------------------
CALL = '{"tool": "calculator", "arguments": {"expression": "17 * 23"}}'
ANSWER = '{"answer": "等于 391。"}'
BROKEN = {"invalid_json": '{"tool": "calculator"', "unknown_tool": '{"tool": "calc", "arguments": {}}',
          "invalid_arguments": '{"tool": "calculator", "arguments": {"expression": 5}}',
          "tool_error": '{"tool": "unit_converter", "arguments": {"value": 1, "from_unit": "米", "to_unit": "斤"}}'}


def test_a_call_then_an_answer(nb, registry):
    client = ScriptedClient([CALL, ANSWER])
    run = nb.run_agent(client, "m", "17 × 23？", registry, nb.handwritten_protocol(registry))
    assert run["answer"] == "等于 391。" and run["end"] == "answer" and len(run["steps"]) == 2
    assert run["steps"][0]["result"] == "391" and run["steps"][0]["tokens"] == len(CALL)
    sent = client.requests[1]["messages"]
    assert sent[-1]["role"] == "user" and sent[-1]["content"].startswith("工具结果：391")
    assert {r["temperature"] for r in client.requests} == {0} and sent[0]["content"] == nb.handwritten_system(registry)


@pytest.mark.parametrize("kind", list(BROKEN))
def test_each_error_goes_back_to_the_model_with_feedback(nb, registry, kind):
    client = ScriptedClient([BROKEN[kind], CALL, ANSWER])
    run = nb.run_agent(client, "m", "17 × 23？", registry, nb.handwritten_protocol(registry))
    assert run["steps"][0]["error"] == kind and run["answer"] == "等于 391。"
    assert client.requests[1]["messages"][-1]["content"].startswith(f"出错了（{nb.ERROR_KINDS[kind]}）")


@pytest.mark.parametrize("kind", list(BROKEN))
def test_without_feedback_the_run_ends_at_the_first_error(nb, registry, kind):
    protocol = nb.handwritten_protocol(registry)
    alone = nb.run_agent(ScriptedClient([CALL, BROKEN[kind], ANSWER]), "m", "t", registry, protocol, feedback=False)
    assert alone["answer"] is None and alone["end"] == "error" and len(alone["steps"]) == 2
    full = nb.run_agent(ScriptedClient([CALL, BROKEN[kind], ANSWER]), "m", "t", registry, protocol)
    cut = nb.without_feedback(full)
    assert cut["end"] == alone["end"] and cut["answer"] is None
    assert [(s["reply"], s["error"], s["result"]) for s in cut["steps"]] == [(s["reply"], s["error"], s["result"]) for s in alone["steps"]]


def test_a_run_without_errors_is_unchanged_by_the_truncation(nb, registry):
    run = nb.run_agent(ScriptedClient([CALL, ANSWER]), "m", "t", registry, nb.handwritten_protocol(registry))
    assert nb.without_feedback(run) is run


def test_the_step_limit_stops_a_model_that_never_answers(nb, registry):
    client = ScriptedClient([CALL] * 10)
    run = nb.run_agent(client, "m", "t", registry, nb.handwritten_protocol(registry), max_steps=3)
    assert run["end"] == "max_steps" and run["answer"] is None and len(client.requests) == 3


def test_the_worked_examples_show_a_call_an_answer_and_a_recovery_with_the_tools_real_words(nb, registry):
    """Three conversations: every call in them runs, every result and the error message are what the
    tools and the loop really produce, and each ends with an answer."""
    examples = nb.worked_examples()
    assert [m["role"] for m in examples[:4]] == ["user", "assistant", "user", "assistant"] and len(examples) == 14
    for number, message in enumerate(examples):
        if message["role"] != "assistant":
            continue
        action = nb.parse_action(message["content"])
        if "answer" in action:
            continue
        following = examples[number + 1]["content"]
        try:
            assert following == f"工具结果：{nb.execute(action, registry)}"
        except nb.AgentError as error:
            assert following == nb.feedback_message(error, nb.FIX)
    assert "出错了（工具出错）：ValueError：不认识的单位 '公克'" in examples[10]["content"]
    assert nb.worked_examples("另一句")[10]["content"].endswith("\n另一句")


def test_the_recovery_demos_are_broken_as_labelled_and_their_checks_pass_the_right_answer(nb, registry):
    for kind, task, reply, check in nb.BROKEN:
        client = ScriptedClient([ANSWER])
        run = nb.run_agent(client, "m", task, registry, nb.handwritten_protocol(registry), first_reply=reply)
        assert run["steps"][0]["error"] == kind
    right = {"invalid_json": "391", "unknown_tool": "约 3.11 英里", "invalid_arguments": "6 斤", "tool_error": "1024"}
    for kind, _, _, check in nb.BROKEN:
        assert nb.check_answer(right[kind], check) and not nb.check_answer("42", check)


def test_a_given_first_reply_is_not_asked_of_the_model(nb, registry):
    client = ScriptedClient([ANSWER])
    run = nb.run_agent(client, "m", "t", registry, nb.handwritten_protocol(registry), first_reply=BROKEN["tool_error"])
    assert run["steps"][0]["error"] == "tool_error" and "不能互相换算" in run["steps"][0]["result"] and len(client.requests) == 1


def test_summarise_counts_errors_by_kind(nb, registry):
    protocol = nb.handwritten_protocol(registry)
    runs = [nb.run_agent(ScriptedClient([BROKEN["unknown_tool"], CALL, ANSWER]), "m", "t", registry, protocol),
            nb.run_agent(ScriptedClient(["乱说"] * 4), "m", "t", registry, protocol)]
    tasks = [{"check": {"kind": "number", "value": 391}}] * 2
    row = nb.summarise(runs, tasks)
    assert row["成功率"] == 0.5 and row["平均步数"] == 3.5 and row["未知工具"] == 1 and row["JSON 格式错误"] == 4
    assert row["到步数上限"] == 1


# --- checking answers -------------------------------------------------------------------------
DAY = datetime.date(2026, 11, 29)  # a Sunday


@pytest.mark.parametrize("answer, check, ok", [
    ("结果是 391。", {"kind": "number", "value": 391}, True), ("约 3.11 英里", {"kind": "number", "value": 3.106856, "tol": 0.01}, True),
    ("约 3 英里", {"kind": "number", "value": 3.106856, "tol": 0.01}, False), ("一共 2,097,152 个", {"kind": "number", "value": 2097152}, True),
    ("−28", {"kind": "number", "value": -28}, True), ("由微软提出", {"kind": "contains", "any": ["微软", "Microsoft"]}, True),
    ("今天是 2026 年 11 月 29 日", {"kind": "today"}, True), ("2026-11-29", {"kind": "today"}, True), ("2026-11-28", {"kind": "today"}, False),
    ("今天星期天", {"kind": "weekday"}, True), ("周日", {"kind": "weekday"}, True), ("星期一", {"kind": "weekday"}, False),
    ("还有 33 天", {"kind": "days_until", "date": "2027-01-01"}, True), ("还有 32 天", {"kind": "days_until", "date": "2027-01-01"}, False),
    (None, {"kind": "today"}, False)])
def test_answers_are_checked(nb, answer, check, ok):
    assert nb.check_answer(answer, check, today=DAY) is ok


# --- MCP (the mcp package is pinned in requirements.txt: without it this fails, it does not skip) ---------
def test_the_tools_work_through_an_mcp_server_over_stdio(nb, registry, tmp_path):
    import mcp  # noqa: F401
    source = (NOTEBOOKS / NAME).read_text(encoding="utf-8")  # make the cells' code findable as Jupyter does
    import nbformat

    cells = [c.source for c in nbformat.reads(source, as_version=4).cells if "export" in c.metadata.get("tags", [])]
    for index, cell in enumerate(cells):
        linecache.cache[f"{NAME}[export {index}]"] = (len(cell), None, cell.splitlines(True), f"{NAME}[export {index}]")
    (tmp_path / "server.py").write_text(nb.server_script(registry), encoding="utf-8")
    tools = nb.MCPTools(sys.executable, [str(tmp_path / "server.py")], tmp_path / "log.txt")
    try:
        assert [name for name, _, _ in tools.list_tools()] == ["calculator", "unit_converter", "today"]
        assert tools.call("calculator", {"expression": "2 + 3 * 4"}) == "14"
        with pytest.raises(RuntimeError, match="不能互相换算"):
            tools.call("unit_converter", {"value": 1, "from_unit": "km", "to_unit": "磅"})
        remote = nb.mcp_registry(tools, registry)
        run = nb.run_agent(ScriptedClient([CALL, ANSWER]), "m", "t", remote, nb.handwritten_protocol(remote))
        assert run["steps"][0]["result"] == "391" and run["answer"] == "等于 391。"
    finally:
        tools.close()
