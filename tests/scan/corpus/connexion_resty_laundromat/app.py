"""A laundromat's card API on connexion 2 with a Swagger 2.0 document: no handler is decorated, RestyResolver
derives most of them from the path and method."""

import connexion
from connexion.resolver import RestyResolver

app = connexion.App(__name__, specification_dir="spec")
app.add_api("swagger.yaml", resolver=RestyResolver("laundry.api", collection_endpoint_name="list_all"),
            pythonic_params=True)
