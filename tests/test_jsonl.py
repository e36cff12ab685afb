from monitor.jsonl import ReadReport, read_posts


def test_bad_lines_are_reported_with_line_numbers_and_the_rest_is_read(tmp_path):
    path = tmp_path / "posts.jsonl"
    path.write_bytes(
        b'{"id": "1", "text": "ok"}\n'
        b"not json\n"
        b'{"text": "no id"}\n'
        b'{"id": "4"}\n'
        b"\n"
        b'{"id": "6", "text": "\xff\xfe bad utf-8"}\n'
        b'{"id": "7", "text": "also ok"}\n'
    )
    report = ReadReport()
    ids = [post.id for _, _, post in read_posts(path, report)]
    assert ids == ["1", "7"]
    messages = [str(error) for error in report.skipped]
    assert messages == [
        f"{path}:2: not valid JSON: Expecting value (column 1)",
        f"{path}:3: missing required field 'id'",
        f"{path}:4: missing required field 'text'",
        f"{path}:6: invalid UTF-8 at byte 21",
    ]


def test_an_empty_file_reads_nothing_and_skips_nothing(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    report = ReadReport()
    assert list(read_posts(path, report)) == []
    assert (report.read, report.skipped) == (0, [])


def test_a_post_with_a_bad_optional_field_is_read_and_the_field_reported(tmp_path, caplog):
    path = tmp_path / "posts.jsonl"
    path.write_text('{"id": "1", "text": "门关不上", "likes": "1.2万"}\n', encoding="utf-8")
    report = ReadReport()
    posts = [post for _, _, post in read_posts(path, report)]
    assert [p.id for p in posts] == ["1"] and posts[0].likes is None
    assert report.skipped == []
    assert f"{path}:1: kept post '1', ignored field 'likes' must be an integer" in caplog.text


def test_lines_that_cannot_be_stored_are_reported_not_fatal(tmp_path):
    path = tmp_path / "posts.jsonl"
    deep = "[" * 100_000 + "]" * 100_000
    path.write_text(
        '{"id": "s", "text": "\\ud800"}\n'
        f'{{"id": "d", "text": "x", "deep": {deep}}}\n'
        '{"id": "big", "text": "ok", "likes": 9223372036854775808}\n',
        encoding="utf-8",
    )
    report = ReadReport()
    posts = [post for _, _, post in read_posts(path, report)]
    assert [p.id for p in posts] == ["big"] and posts[0].likes is None
    assert [str(e).split(": ", 1)[1] for e in report.skipped] == [
        "holds a lone surrogate (\\ud800-\\udfff), which is not Unicode text",
        "JSON nested too deeply",
    ]


def test_escaped_text_is_checked_for_lone_surrogates_wherever_it_is(tmp_path):
    # Lines without a "\u" escape skip the surrogate walk; every escaped spelling must still be caught.
    path = tmp_path / "posts.jsonl"
    path.write_text(
        '{"id": "key", "text": "x", "\\udc00": 1}\n'
        '{"id": "deep", "text": "x", "extra": {"list": ["ok", "\\uDBFF"]}}\n'
        '{"id": "pair", "text": "\\u51b0\\u7bb1 \\ud83d\\ude21"}\n'
        '{"id": "plain", "text": "冰箱门关不上 😡"}\n',
        encoding="utf-8",
    )
    report = ReadReport()
    posts = [post for _, _, post in read_posts(path, report)]
    assert [(p.id, p.text) for p in posts] == [("pair", "冰箱 😡"), ("plain", "冰箱门关不上 😡")]
    assert [e.line for e in report.skipped] == [1, 2]
