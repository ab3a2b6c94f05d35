// Starts GraphiQL on the page served at GET /api/v1/t/{tenant}/graphql (Accept: text/html).
// Everything it loads comes from cit itself; queries go to the endpoint named in data-endpoint.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint");
  var fetcher = GraphiQL.createFetcher({ url: endpoint });
  var defaultQuery = root.getAttribute("data-query") || "";
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolbarOpen: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    })
  );
})();
