import pytest

PAGES = ["/", "/lists/", "/campaigns/", "/templates/", "/delivery/", "/bounces/", "/settings/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_every_dashboard_page_requires_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_dashboard_pages_render_with_navigation(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Overview", "Lists", "Campaigns", "Templates", "Delivery", "Bounces", "Settings"):
        assert f">{label}</a>" in html
    assert 'aria-current="page"' in html


@pytest.mark.django_db
def test_login_page_and_stylesheet_are_public(client):
    assert client.get("/login/").status_code == 200
    css = client.get("/static/css/app.css")
    assert css.status_code == 200
    assert b".topbar" in b"".join(css.streaming_content)


@pytest.mark.django_db
def test_pages_load_nothing_from_other_hosts(admin_client):
    html = admin_client.get("/").content.decode()
    assert "http://" not in html.replace("http://testserver", "")
    assert "https://" not in html


@pytest.mark.django_db
def test_admin_is_at_admin(admin_client):
    assert admin_client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(admin_client):
    response = admin_client.post("/logout/")
    assert response.status_code == 302
    assert admin_client.get("/").status_code == 302
