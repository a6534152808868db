%% Internal header: event filter records (upstream keeps them in
%% `src/khepri_evf.hrl' too, so user code builds them with `khepri_evf:tree/1,2'
%% rather than with the record syntax).

-ifndef(KHEPRI_EVF_HRL).
-define(KHEPRI_EVF_HRL, true).

%% A filter on changes to the tree: `path' is a native pattern, `props' may
%% hold `on_actions' and `priority' (SPEC section 2.11).
-record(evf_tree, {path :: khepri_path:native_pattern(),
                   props = #{} :: khepri_evf:tree_event_filter_props()}).

-define(IS_KHEPRI_EVENT_FILTER(EventFilter),
        (is_record(EventFilter, evf_tree))).

-endif.
