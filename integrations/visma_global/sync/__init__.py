"""The Visma Global sync (the Severa ↔ Visma Global guide): one adapter per entity type for
the engine (integrations/engine.py), whose calls to Visma Global are jobs of the agent
(integrations/agents.py `AgentChannel`), then the steps that bring invoice states back.

Rules, per the guide:

- **Business units ↔ departments** both ways, matched by code (department number) and name.
- **Employees**: every user of the company is an employee (`employee_sync_from_members`)
  and goes to Visma Global; Visma Global's employees with an e-mail address come back;
  matched by e-mail address, else by name.
- **Products, travels and work types ↔ the product register** both ways (the article type
  tells which), matched by code (article number) and name; a product without a code stays.
- **Customers**: ours go to Visma Global only once they have a project in *won* status; all
  of Visma Global's of the transferable customer types (a setting; all when none is chosen)
  come here, with addresses and contacts; matched by number and name.
- **Projects**: ours in *won* status go to Visma Global; Visma Global's come here (as won);
  matched by number and name.
- **Invoices** reaching the sending status go to Visma Global as **orders** (`ExternalRef`
  carries our reference; attachments are not transferred) and move to the received status.
  When a person has made the order an invoice and sent it, the invoice moves to the sent
  (received) status with Visma Global's invoice number; when paid, to the paid status.
- **Supplier invoices** rows booked to a project come back once each as project fees,
  billable or cost only as the connection says, with the row's article when Severa has it,
  else the default fee product.
- **Master per entity type** (`Connection.master_for`): new records flow both ways; updates
  only from the master.
"""
