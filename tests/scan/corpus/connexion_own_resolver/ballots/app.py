"""A club's ballot box on connexion, with its own copy of RestyResolver (patched until a fix is released)."""

from connexion import App
from connexion.resolver import Resolver


class RestyResolver(Resolver):
    """connexion's RestyResolver, kept here with a local fix; it names handlers as connexion's does."""

    def __init__(self, default_module_name, collection_endpoint_name="search"):
        Resolver.__init__(self)
        self.default_module_name = default_module_name
        self.collection_endpoint_name = collection_endpoint_name


app = App(__name__, specification_dir="api/openapi/")
app.add_api("openapi.yaml", resolver=RestyResolver("ballots.api"))
