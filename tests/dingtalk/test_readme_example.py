"""The README's "Using the library on its own" example, run as written against the emulator."""

import textwrap

# Kept word for word in README.md; the placeholders are filled in from an emulator corp.
README_EXAMPLE = textwrap.dedent('''
    from dingtalk import AppCredentials, DingTalkClient, messages

    client = DingTalkClient(AppCredentials(appkey="...", appsecret="..."),
                            base_url="http://127.0.0.1:9000")   # or https://oapi.dingtalk.com
    user = client.users.get("manager01")
    task = client.work_notices.send(agent_id=123, userids=["manager01"],
                                    msg=messages.text("hello"))
''')


def test_readme_example_runs_against_the_emulator(emulator):
    corp = emulator.create_corp(users=3)
    app = emulator.create_app(corp["corp_id"])
    userid = corp["userids"][0]
    source = (README_EXAMPLE
              .replace('appkey="..."', f'appkey="{app["appkey"]}"')
              .replace('appsecret="..."', f'appsecret="{app["appsecret"]}"')
              .replace("http://127.0.0.1:9000", emulator.base_url)
              .replace("manager01", userid)
              .replace("agent_id=123", f"agent_id={app['agent_id']}"))
    scope: dict = {}
    exec(compile(source, "README.md", "exec"), scope)  # noqa: S102 (our own README text)
    scope["client"].close()
    assert scope["user"].userid == userid
    assert emulator.task(scope["task"].task_id)["recipients"] == 1
