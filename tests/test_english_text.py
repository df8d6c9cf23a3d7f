"""English text handling without a model: paragraphs and pieces, the glossary, answer checks,
extractive summaries, engine configuration."""

import json
from pathlib import Path

import pytest

from crawler.english import load_glossary, resolve_config
from crawler.english.answers import check_summary, check_translation, chinese_words, clean_answer
from crawler.english.chunking import han_share, join_pieces, plan_pieces, split_paragraphs, split_to_fit
from crawler.english.engines import BadAnswer, EngineError, Reply, estimate_tokens, make_engine
from crawler.english.glossary import GlossaryError
from crawler.english.summaries import english_tokenizer, extractive_summary

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def seed_record() -> dict:
    return json.loads((FIXTURES / "seed-record.json").read_text(encoding="utf-8"))


# --- paragraphs and pieces ---------------------------------------------------------------------


def test_blank_lines_separate_paragraphs():
    assert split_paragraphs("第一段。\n\n第二段。\n  \n\n第三段。") == ["第一段。", "第二段。", "第三段。"]
    assert split_paragraphs("一行。\n二行。") == ["一行。", "二行。"]
    assert split_paragraphs("") == [] and split_paragraphs(None) == []


def test_flattened_chinese_splits_at_spaces_between_chinese_but_not_inside_english(seed_record):
    paragraphs = split_paragraphs(seed_record["resulting_text"])
    assert len(paragraphs) == 13
    assert paragraphs[1] == "一、《意见》出台的背景"
    assert paragraphs[-1].startswith("下一步，商务部将会同各部门")
    assert "".join(paragraphs) == seed_record["resulting_text"].replace(" ", "")
    # spaces around Latin words and numbers inside Chinese are not paragraph breaks
    assert split_paragraphs("支持 APEC 会议，共 12 项。") == ["支持 APEC 会议，共 12 项。"]
    assert split_paragraphs("An English paragraph. Another sentence.") == ["An English paragraph. Another sentence."]


def test_han_outside_the_basic_plane_counts_as_chinese():
    # Extension B characters (in names and places) are Chinese too: the corpus's one range of Han.
    assert han_share("𠮷𡈽") == 1.0
    assert split_paragraphs("𠮷野家开业。 𡈽地整理。") == ["𠮷野家开业。", "𡈽地整理。"]
    assert chinese_words("见𠮷𡈽 and 开放") == ["见𠮷𡈽", "开放"]


def test_other_scripts_inside_chinese_leave_it_chinese():
    # A line's Chineseness is Han against Latin letters: fullwidth letters or kana do not dilute it.
    assert han_share("ＷＴＯ和ＧＤＰ相关规定") == 1.0
    assert split_paragraphs("加入ＷＴＯ。 落实ＧＤＰ核算。") == ["加入ＷＴＯ。", "落实ＧＤＰ核算。"]


def test_long_paragraphs_are_cut_at_sentences_then_clauses_and_nothing_is_lost(seed_record):
    paragraphs = split_paragraphs(seed_record["resulting_text"])
    longest = max(paragraphs, key=len)
    pieces = split_to_fit(longest, 60)
    assert len(pieces) > 1 and all(len(p) <= 60 for p in pieces)
    assert "".join(pieces) == longest
    assert all(p.endswith(("。", "，", "、", "：", "；")) for p in pieces[:-1])
    # one clause longer than the budget is cut anywhere, still losing nothing
    run_on = "数" * 250
    assert "".join(split_to_fit(run_on, 40)) == run_on
    assert all(len(p) <= 40 for p in split_to_fit(run_on, 40))
    with pytest.raises(ValueError):
        split_to_fit("文本", 0)


def test_plan_and_join_keep_reading_order(seed_record):
    pieces = plan_pieces(seed_record["resulting_text"], 80)
    assert [p.paragraph for p in pieces] == sorted(p.paragraph for p in pieces)
    assert len({p.paragraph for p in pieces}) == 13
    fake = [f"<{p.paragraph}.{p.part}>" for p in pieces]
    joined = join_pieces(pieces, fake)
    paragraphs = joined.split("\n\n")
    assert len(paragraphs) == 13
    assert paragraphs[0].startswith("<0.0> <0.1>")
    with pytest.raises(ValueError):
        join_pieces(pieces, fake[:-1])


def test_han_share_and_token_estimate():
    assert han_share("商务部") == 1.0
    assert han_share("Ministry of Commerce") == 0.0
    assert 0 < han_share("the 商务部 said") < 0.5
    assert estimate_tokens("商务部") >= 3
    assert estimate_tokens("Ministry of Commerce") >= 5


# --- glossary -----------------------------------------------------------------------------------


def test_bundled_glossary_loads_and_longest_terms_win():
    glossary = load_glossary()
    assert len(glossary.entries) > 50
    found = [e.chinese for e in glossary.terms_in("商务部服贸司负责人解读服务贸易和商贸服务业司的文件")]
    assert found == ["商务部", "服贸司", "服务贸易和商贸服务业司"]  # 服务贸易 inside the longer name is not a term
    assert glossary.prompt_lines("商务部外资司") == [
        "商务部 = Ministry of Commerce",
        "外资司 = Department of Foreign Investment Administration",
    ]


def test_glossary_violations_on_the_seed_translation(seed_record):
    glossary = load_glossary()
    title_missing = glossary.violations(seed_record["title"], seed_record["translated_title"])
    # the seed's title calls 服贸司 "the Department of Services and Trade"
    assert [e.chinese for e in title_missing] == ["服贸司"]
    body_missing = {e.chinese for e in glossary.violations(seed_record["resulting_text"], seed_record["translated_content"])}
    assert "服贸司" in body_missing and "商务部" not in body_missing
    # case, hyphens, plurals and possessives do not count as violations
    assert glossary.violations("高质量发展", "High Quality Development") == []
    assert glossary.violations("习近平新时代中国特色社会主义思想", "Xi Jinping's Thought on Socialism with Chinese Characteristics for a New Era") == []
    assert glossary.violations("老字号", "a time-honored brand") == []
    assert [e.english for e in glossary.violations("商务部", "the Commerce Ministry")] == ["Ministry of Commerce"]


def test_glossary_file_errors_name_the_entry(tmp_path):
    bad = tmp_path / "g.tsv"
    bad.write_text("# comment\nchinese\tenglish\n商务部\tMinistry of Commerce\n外资司\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match="line 4"):
        load_glossary(bad)
    twice = tmp_path / "twice.tsv"
    twice.write_text("商务部\tMinistry of Commerce\n商务部\tMOFCOM\n", encoding="utf-8")
    with pytest.raises(GlossaryError, match="twice"):
        load_glossary(twice)
    good = tmp_path / "good.tsv"
    good.write_text("商务部\tMOFCOM\tinstitution\n", encoding="utf-8")
    assert load_glossary(good).entries[0].english == "MOFCOM"
    assert load_glossary(good).digest != load_glossary().digest


# --- checking answers -------------------------------------------------------------------------


def test_clean_answer_strips_what_models_wrap_around_a_translation():
    assert clean_answer("<think>hmm</think>\nThe Ministry of Commerce") == "The Ministry of Commerce"
    assert clean_answer("```\nThe Ministry\n```") == "The Ministry"
    assert clean_answer("Here is the English translation:\nThe Ministry") == "The Ministry"
    assert clean_answer("Translation: The Ministry") == "The Ministry"
    assert clean_answer('"The Ministry"', "商务部") == "The Ministry"
    assert clean_answer("“Opinions”", "《意见》") == "“Opinions”"  # the source is quoted: keep it


def test_bad_answers_are_refused():
    source = "商务部等12部门联合印发指导意见。"
    assert check_translation(Reply("The Ministry of Commerce and 12 departments issued guidance."), source)
    with pytest.raises(BadAnswer, match="still in Chinese"):
        check_translation(Reply(source), source)
    with pytest.raises(BadAnswer, match="line still in Chinese"):
        check_translation(Reply(f"{source}\n\nThe text says that the Ministry of Commerce issued some guidance today."), source)
    with pytest.raises(BadAnswer, match="empty"):
        check_translation(Reply("  "), source)
    with pytest.raises(BadAnswer, match="cut off"):
        check_translation(Reply("The Ministry of Commerce and", "length"), source)
    with pytest.raises(BadAnswer, match="ran on"):
        check_translation(Reply("word " * 400), source)
    # Chinese words left inside English: refused, unless it is the last attempt (strict=False)
    with pytest.raises(BadAnswer, match="untranslated.*民生"):
        check_translation(Reply("The guidance improves 民生 and employment."), source)
    assert check_translation(Reply("The guidance improves 民生 and employment."), source, strict=False)


def test_summary_check_keeps_five_sentences_and_drops_a_cut_off_one():
    text = " ".join(f"Sentence number {n} is here." for n in range(1, 8))
    assert check_summary(Reply(text)).count(".") == 5
    cut = check_summary(Reply("The Ministry issued guidance. It covers services. It also", "length"))
    assert cut == "The Ministry issued guidance. It covers services."
    with pytest.raises(BadAnswer):
        check_summary(Reply("商务部等12部门联合印发指导意见。"))


# --- extractive summaries ---------------------------------------------------------------------


def test_extractive_summary_of_the_seed_translation_needs_no_nltk_data(seed_record):
    tokenizer = english_tokenizer()
    assert tokenizer.to_sentences("Dr. Smith went home. He slept.")[-1] == "He slept."
    summary = extractive_summary(seed_record["translated_content"], sentences=3)
    assert summary
    sentences = tokenizer.to_sentences(summary)
    assert len(sentences) == 3
    for sentence in sentences:
        assert sentence in seed_record["translated_content"]
    assert han_share(summary) == 0
    assert extractive_summary("") == ""


# --- configuration ------------------------------------------------------------------------------


def test_engine_choice_precedence():
    env = {"CORPUS_ENGINE": "openai", "CORPUS_MODEL": "env-model", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
    file = {"engine": "llamacpp", "model": "file.gguf", "timeout": 5, "n_ctx": 2048}
    assert resolve_config(environ={}, file_settings={}).engine == "none"
    from_file = resolve_config(environ={}, file_settings=file)
    assert (from_file.engine, from_file.model, from_file.options) == ("llamacpp", "file.gguf", {"n_ctx": 2048})
    from_env = resolve_config(environ=env, file_settings=file)
    assert (from_env.engine, from_env.model) == ("openai", "env-model")
    assert from_env.options == {"timeout": 5, "base_url": "http://127.0.0.1:9/v1"}
    from_cli = resolve_config("llamacpp", "cli.gguf", environ=env, file_settings=file)
    assert (from_cli.engine, from_cli.model, from_cli.source) == ("llamacpp", "cli.gguf", "command line")
    keyed = resolve_config(environ={"MY_KEY": "k"}, file_settings={"engine": "openai", "api_key_env": "MY_KEY"})
    assert keyed.options["api_key"] == "k"
    with pytest.raises(EngineError, match="unknown engine"):
        resolve_config("deepl", environ={}, file_settings={})


def test_config_file_is_read_from_corpus_config(tmp_path):
    path = tmp_path / "corpus.toml"
    path.write_text('[english]\nengine = "openai"\nmodel = "m"\nbase_url = "http://127.0.0.1:9/v1"\n', encoding="utf-8")
    config = resolve_config(environ={"CORPUS_CONFIG": str(path)})
    assert (config.engine, config.model, config.options["base_url"]) == ("openai", "m", "http://127.0.0.1:9/v1")
    path.write_text("[english\n", encoding="utf-8")
    with pytest.raises(EngineError, match="cannot read"):
        resolve_config(environ={"CORPUS_CONFIG": str(path)})


def test_engines_that_cannot_be_set_up_say_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert make_engine("none") is None
    with pytest.raises(EngineError, match="needs a model"):
        make_engine("openai")
    with pytest.raises(EngineError, match="OPENAI_API_KEY"):
        make_engine("openai", "m")
    with pytest.raises(EngineError, match="needs a model"):
        make_engine("llamacpp")
    with pytest.raises(EngineError, match="no model at"):
        make_engine("llamacpp", str(tmp_path / "missing.gguf"))
    with pytest.raises(EngineError, match="0 .gguf files"):
        make_engine("llamacpp", str(tmp_path))
    not_a_model = tmp_path / "x.gguf"
    not_a_model.write_bytes(b"not a gguf")
    with pytest.raises(EngineError, match="cannot load"):
        make_engine("llamacpp", str(not_a_model))
