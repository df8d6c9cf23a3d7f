"""Datasette plugin: a ``year`` facet over a date column (``YYYY-MM-DD...`` text).

Metadata ``facets: [{year: publish_date}]`` (or ``?_facet_year=publish_date``) counts rows by the first
four characters of the column, newest year first; choosing a year filters with Datasette's own
``publish_date__startswith=2023``, so the filtered page works in plain Datasette too.
"""

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args


class YearFacet(Facet):
    type = "year"

    async def facet_results(self):
        results, timed_out = [], []
        args = dict(self.get_querystring_pairs())
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            year = f"substr({escape_sqlite(column)}, 1, 4)"
            sql = f"""
                select {year} as value, count(*) as count from ({self.sql})
                where {escape_sqlite(column)} glob '[0-9][0-9][0-9][0-9]*'
                group by value order by value desc limit {size + 1}
            """
            try:
                rows = await self.ds.execute(
                    self.database, sql, self.params, truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )
            except QueryInterrupted:
                timed_out.append(column)
                continue
            selected_key = f"{column}__startswith"
            values = []
            for row in rows.rows[:size]:
                selected = args.get(selected_key) == row["value"]
                if selected:
                    path = path_with_removed_args(self.request, {selected_key: row["value"]})
                else:
                    path = path_with_added_args(self.request, {selected_key: row["value"]})
                values.append({
                    "value": row["value"],
                    "label": row["value"],
                    "count": row["count"],
                    "toggle_url": self.ds.absolute_url(self.request, path),
                    "selected": selected,
                })
            results.append({
                "name": column,
                "type": self.type,
                "hideable": source_and_config["source"] != "metadata",
                "toggle_url": path_with_removed_args(self.request, {"_facet_year": column}),
                "results": values,
                "truncated": len(rows) > size,
            })
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [YearFacet]
