%% Internal header: the projection record returned by `khepri_projection:new/2,3'
%% (upstream keeps it in `src/khepri_projection.hrl' as well; user code treats
%% it as opaque and reads the name with `khepri_projection:name/1').

-ifndef(KHEPRI_PROJECTION_HRL).
-define(KHEPRI_PROJECTION_HRL, true).

-record(khepri_projection,
        {%% Name of the projection; for a single-table projection, also the
         %% name of its ETS table.
         name :: atom(),
         %% `copy' (the node's data is the record) or a plain fun (SPEC 5b:
         %% funs are stored as is, not extracted).
         projection_fun :: copy | fun(),
         %% Options given to `ets:new/2': a list for a single-table
         %% projection (the table is named `name'), a map from table name to
         %% list for a multi-table one (`tables' option, extended funs only).
         ets_options :: [atom() | tuple()] | #{atom() => [atom() | tuple()]}}).

-endif.
